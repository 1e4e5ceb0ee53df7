// diotorture help [TOPIC]: the reference in docs/, from the binary (see
// cmd/docs.hpp). `help run` is docs/commands/run.md; `help cases` is
// docs/cases.md; a path under docs/ ("torture.md", "commands/run") names a
// page exactly where a command and a page share a name.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <string>

#include "cmd/command.hpp"
#include "cmd/docs.hpp"

namespace dt {

namespace {

const DocPage* find_page(std::string topic) {
  auto by_topic = [](const std::string& t) -> const DocPage* {
    for (const auto& p : doc_pages())
      if (t == p.topic) return &p;
    return nullptr;
  };
  if (topic.ends_with(".md")) return by_topic(topic.substr(0, topic.size() - 3));
  if (const DocPage* p = by_topic("commands/" + topic)) return p;  // a command's page first
  return by_topic(topic);
}

// A page's title: its first line without the leading "# ".
std::string title(const DocPage& p) {
  std::string first(p.text, std::string(p.text).find('\n'));
  return first.starts_with("# ") ? first.substr(2) : first;
}

}  // namespace

Action setup_help(CLI::App& sub) {
  auto topic = std::make_shared<std::string>();
  sub.add_option("topic", *topic, "A command (run, bench, ...) or a page (cases, known-bugs, runner, ...)");
  return [topic] {
    if (topic->empty()) {
      std::cout << "diotorture help TOPIC prints a page of the reference (docs/ in the repository):\n\n";
      for (const auto& p : doc_pages()) {
        std::string t = p.topic;
        if (t.starts_with("commands/")) t = t.substr(9);
        else if (find_page(t) != &p) t += ".md";  // a command of the same name takes the bare topic
        std::cout << fmt::format("  {:<18} {}\n", t, title(p));
      }
      return 0;
    }
    const DocPage* p = find_page(*topic);
    if (!p) {
      std::vector<std::string> topics;
      for (const auto& d : doc_pages()) {
        std::string t = d.topic;
        topics.push_back(t.starts_with("commands/") ? t.substr(9) : t);
      }
      const std::string hint = did_you_mean(*topic, topics);
      throw SetupError(fmt::format("no help topic '{}'{}; 'diotorture help' lists them", *topic,
                                   hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    std::cout << p->text;
    return 0;
  };
}

}  // namespace dt
