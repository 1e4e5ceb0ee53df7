// The SVG chart of a comparison (`compare --format svg`, `ab --chart`).
#include <fmt/format.h>

#include <algorithm>

#include "lib/bench/bench_report.hpp"
#include "lib/bench/bench_table.hpp"

namespace dt {

using namespace bench_table;

std::string render_svg(const std::vector<BenchRun>& runs, const Comparison& c) {
  // Grouped bars: one panel per engine and workload, each on its own scale
  // (MiB/s and IOPS do not share an axis), one group per target, one bar per
  // run (median), a whisker from min to max, the Diff with its mark below.
  const auto targets = all_targets(runs);
  const char* colors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"};
  std::vector<std::pair<std::string, std::string>> panels;  // engine, op
  for (const auto& e : all_engines(runs))
    for (const auto& op : all_ops(runs, e)) panels.emplace_back(e, op);
  const int bar = 22, gap = 14, panel_h = 200, left = 30, legend_h = 24 + 18 * static_cast<int>(runs.size());
  // Wide enough for the longest target name under its bars.
  const int group_w = std::max(static_cast<int>(runs.size()) * bar + gap, 84);
  const int panel_w = static_cast<int>(targets.size()) * group_w + gap;
  const int per_row = std::max(1, 1200 / (panel_w + 20));
  const int nrows = (static_cast<int>(panels.size()) + per_row - 1) / per_row;
  const int row_h = panel_h + 60 + 11 * static_cast<int>(runs.size());
  const int width = left + std::min<int>(per_row, static_cast<int>(panels.size())) * (panel_w + 20) + 20;
  const int height = 30 + nrows * row_h + legend_h;
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
      "font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      width, height);
  for (size_t p = 0; p < panels.size(); ++p) {
    const auto& [e, op] = panels[p];
    const int x = left + static_cast<int>(p % per_row) * (panel_w + 20);
    const int y0 = 30 + static_cast<int>(p / per_row) * row_h, y1 = y0 + panel_h;
    double top = 0;
    std::string unit = "MiB/s";
    for (const auto& r : runs)
      for (const auto& t : targets)
        if (const BenchCell* cell = r.find(t, e, op)) {
          top = std::max(top, summarize(cell->rate()).max);
          unit = cell->rate_unit();
        }
    if (top <= 0) top = 1;
    auto y_of = [&](double v) { return y1 - v / top * panel_h; };
    for (int k = 0; k <= 4; ++k)
      s += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>\n", x, y_of(top * k / 4),
                       x + panel_w, y_of(top * k / 4));
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\">{} {} ({}, top {:.0f})</text>\n",
                     x + panel_w / 2, y0 - 10, op_title(op), e, unit, top);
    int gx = x + gap / 2;
    for (const auto& t : targets) {
      for (size_t i = 0; i < runs.size(); ++i) {
        const BenchCell* cell = runs[i].find(t, e, op);
        if (!cell) continue;
        Summary m = summarize(cell->rate());
        const int bx = gx + (group_w - gap - static_cast<int>(runs.size()) * bar) / 2 + static_cast<int>(i) * bar;
        s += fmt::format("<rect x=\"{}\" y=\"{:.1f}\" width=\"{}\" height=\"{:.1f}\" fill=\"{}\"><title>{} {} {} "
                         "{}: {}</title></rect>\n",
                         bx, y_of(m.median), bar - 2, y1 - y_of(m.median), colors[i % 6], c.labels[i], t, e, op,
                         rate(m.median, unit));
        s += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"black\"/>\n",
                         bx + (bar - 2) / 2, y_of(m.min), y_of(m.max));
      }
      for (size_t i = 1; i < runs.size(); ++i)
        if (const CellComparison* cc = find_cmp(c, t, e, op, c.labels[i]))
          s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"9\">{}</text>\n",
                           gx + group_w / 2 - gap / 2, y1 + 28 + 11 * static_cast<int>(i - 1), diff_cell(cc->rate));
      s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", gx + group_w / 2 - gap / 2,
                       y1 + 15, title(t));
      gx += group_w;
    }
  }
  int ly = 30 + nrows * row_h;
  for (size_t i = 0; i < runs.size(); ++i, ly += 18) {
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>\n", left, ly, colors[i % 6]);
    s += fmt::format("<text x=\"{}\" y=\"{}\">{} (kernel {})</text>\n", left + 18, ly + 10, c.labels[i],
                     runs[i].kernel);
  }
  s += "</svg>\n";
  return s;
}

}  // namespace dt
