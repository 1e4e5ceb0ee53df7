#include "lib/vm/initramfs.hpp"

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <sstream>

#include "lib/sys/sys.hpp"

namespace dt {
namespace fs = std::filesystem;

void CpioWriter::entry(const std::string& path, uint32_t mode, const std::string& data) {
  std::string name = path;
  while (!name.empty() && name[0] == '/') name.erase(0, 1);
  // newc header: magic, then 13 eight-digit hex fields, then the name (NUL
  // terminated) padded to 4 bytes, then the data padded to 4 bytes.
  out_ += fmt::format("070701{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}",
                      ino_++, mode, 0, 0, 1, 0, data.size(), 0, 0, 0, 0, name.size() + 1, 0);
  out_ += name;
  out_.push_back('\0');
  while (out_.size() % 4) out_.push_back('\0');
  out_ += data;
  while (out_.size() % 4) out_.push_back('\0');
}

void CpioWriter::add_dir(const std::string& path, uint32_t mode) { entry(path, 0040000 | mode, ""); }
void CpioWriter::add_file(const std::string& path, const std::string& data, uint32_t mode) {
  entry(path, 0100000 | mode, data);
}

std::string CpioWriter::finish() {
  entry("TRAILER!!!", 0, "");
  return std::move(out_);
}

std::vector<std::string> parse_ldd(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& raw : split(text, '\n')) {
    std::string line = trim(raw);
    auto arrow = line.find("=> ");
    std::string path = arrow != std::string::npos ? line.substr(arrow + 3) : line;
    path = path.substr(0, path.find(' '));
    if (!path.empty() && path[0] == '/') out.push_back(path);
  }
  return out;
}

std::vector<std::string> parse_show_depends(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& raw : split(text, '\n')) {
    std::string line = trim(raw);
    if (line.rfind("insmod ", 0) != 0) continue;
    std::string path = trim(line.substr(7));
    path = path.substr(0, path.find(' '));  // module parameters follow the path
    out.push_back(path);
  }
  return out;
}

std::string bzimage_release(const fs::path& kernel) {
  std::string img;
  try {
    img = read_file(kernel);
  } catch (const std::exception&) {
    return "";
  }
  // Setup header: "HdrS" at 0x202, kernel_version pointer (minus 0x200) at 0x20E.
  if (img.size() < 0x210 || img.compare(0x202, 4, "HdrS") != 0) return "";
  const size_t off = static_cast<size_t>(static_cast<uint8_t>(img[0x20E]) | (static_cast<uint8_t>(img[0x20F]) << 8)) + 0x200;
  if (off >= img.size()) return "";
  std::string v = img.substr(off, std::min<size_t>(256, img.size() - off));
  return v.substr(0, v.find_first_of(std::string(" \0", 2)));
}

namespace {
// Module files are copied uncompressed: busybox insmod and older kernels
// cannot load .ko.xz/.ko.zst themselves.
std::string module_bytes(const std::string& path) {
  auto ends = [&](const char* sfx) { return path.size() > std::strlen(sfx) && path.ends_with(sfx); };
  if (!ends(".xz") && !ends(".zst") && !ends(".gz")) return read_file(path);
  std::vector<std::string> argv = ends(".xz") ? std::vector<std::string>{"xz", "-dc", path}
                                  : ends(".zst") ? std::vector<std::string>{"zstd", "-dcq", path}
                                                 : std::vector<std::string>{"gzip", "-dc", path};
  std::string out;
  if (run_command(argv, &out) != 0)
    throw SetupError(fmt::format("cannot decompress {} with {}; install it (apt-get install -y xz-utils zstd)", path,
                                 argv[0]));
  return out;
}
}  // namespace

std::string build_initramfs(const InitramfsSpec& spec, std::vector<std::string>* module_order) {
  CpioWriter cpio;
  std::set<std::string> dirs;
  auto ensure_dirs = [&](const std::string& path) {
    fs::path p = fs::path(path).parent_path();
    std::vector<std::string> chain;
    for (; !p.empty() && p != "/"; p = p.parent_path()) chain.push_back(p.string());
    for (auto it = chain.rbegin(); it != chain.rend(); ++it)
      if (dirs.insert(*it).second) cpio.add_dir(*it);
  };
  for (const char* d : {"/bin", "/sbin", "/proc", "/sys", "/dev", "/tmp", "/var", "/var/tmp", "/results", "/etc",
                        "/lib", "/lib/modules"})
    if (dirs.insert(d).second) cpio.add_dir(d);
  std::set<std::string> files;
  auto add_binary = [&](const std::string& path, const std::string& inside) {
    if (!files.insert(inside).second) return;
    std::error_code ec;
    fs::path real = fs::canonical(path, ec);
    if (ec) throw SetupError(fmt::format("{} not found; install the package that has it", path));
    ensure_dirs(inside);
    cpio.add_file(inside, read_file(real), 0755);
  };
  std::vector<std::pair<std::string, std::string>> all = spec.placed_binaries;
  for (const auto& b : spec.binaries) all.emplace_back(b, b);
  for (const auto& [b, inside] : all) {
    add_binary(b, inside);
    std::string out;
    // Static binaries make ldd say "not a dynamic executable" (exit 1): no libraries.
    if (run_command({"ldd", b}, &out) == 0)
      for (const auto& lib : parse_ldd(out)) add_binary(lib, lib);
  }
  if (!spec.modules_dir.empty()) {
    const fs::path dir = fs::absolute(spec.modules_dir);
    const std::string version = dir.filename().string();
    const fs::path root = dir.parent_path().parent_path().parent_path();
    if (dir.parent_path().filename() != "modules" || dir.parent_path().parent_path().filename() != "lib")
      throw SetupError(fmt::format("--modules {} is not a .../lib/modules/VERSION directory; give the one extracted "
                                   "from the kernel package",
                                   spec.modules_dir.string()));
    std::string out;
    if (!fs::exists(dir / "modules.dep") && run_command({"depmod", "-b", root.string(), version}, &out) != 0)
      throw SetupError(fmt::format("depmod -b {} {} failed ({}); install kmod", root.string(), version, trim(out)));
    std::set<std::string> seen;
    std::string order;
    for (const auto& m : spec.modules) {
      out.clear();
      if (run_command({"modprobe", "-d", root.string(), "-S", version, "--show-depends", m}, &out) != 0)
        throw SetupError(fmt::format("module {} not found for {} under {} ({})", m, version, root.string(), trim(out)));
      for (const auto& path : parse_show_depends(out)) {
        if (!seen.insert(path).second) continue;
        std::string name = fs::path(path).filename().string();
        name = name.substr(0, name.find(".ko")) + ".ko";
        cpio.add_file("/lib/modules/" + name, module_bytes(path));
        order += name + "\n";
        module_order->push_back(name);
      }
    }
    cpio.add_file("/etc/modules-order", order);
  }
  for (const auto& [path, data] : spec.extra_files) {
    ensure_dirs(path);
    cpio.add_file(path, data, 0755);
  }
  cpio.add_file("/init", spec.init_script, 0755);
  return cpio.finish();
}

}  // namespace dt
