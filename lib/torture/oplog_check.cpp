#include "lib/torture/oplog_check.hpp"

#include <fmt/format.h>

#include <set>
#include <stdexcept>

namespace dt {

namespace {
[[noreturn]] void bad(const std::string& what) { throw std::runtime_error(what); }
}  // namespace

void check_header(const LogHeader& h) {
  if (h.max_file_size < 4096 || h.max_file_size > kMaxLogFileSize || h.max_file_size % 4096)
    bad(fmt::format("'max_file_size' {} is not a multiple of 4096 between 4096 and {}", h.max_file_size,
                    kMaxLogFileSize));
  if (h.files.size() > kMaxLogFiles) bad(fmt::format("'files' lists {} files; at most {}", h.files.size(), kMaxLogFiles));
  std::set<std::string> names;
  for (size_t i = 0; i < h.files.size(); ++i) {
    const FileSetup& f = h.files[i];
    // Exactly the names torture gives: anything else could point outside
    // the work directory (a log naming ../../etc/passwd would truncate it).
    const std::string dir = f.nocow ? "nocow/f" : "datasum/f";
    if (!f.name.starts_with(dir) || f.name.size() == dir.size() || f.name.size() > dir.size() + 4 ||
        f.name.find_first_not_of("0123456789", dir.size()) != std::string::npos)
      bad(fmt::format("file {}: 'name' '{}' is not {}N (as torture names its files)", i, f.name, dir));
    if (!names.insert(f.name).second) bad(fmt::format("file {}: 'name' '{}' appears twice", i, f.name));
    if (f.piece_size == 0 || f.piece_size % 4096 || f.piece_size > h.max_file_size)
      bad(fmt::format("file {}: 'piece_size' {} is not a multiple of 4096 between 4096 and max_file_size", i,
                      f.piece_size));
    if (f.layout.empty() || f.layout.find_first_not_of("DHP") != std::string::npos)
      bad(fmt::format("file {}: 'layout' '{}' is not a string of D, H and P", i,
                      f.layout.size() > 40 ? f.layout.substr(0, 40) + "..." : f.layout));
    if (f.layout.size() * f.piece_size > h.max_file_size)
      bad(fmt::format("file {}: 'layout' of {} pieces of {} is larger than max_file_size {}", i, f.layout.size(),
                      f.piece_size, h.max_file_size));
  }
}

void check_step(const Step& s, const LogHeader& h) {
  if (s.is_event()) return;  // step_from_json checked the event's name
  if (s.len > h.max_file_size) bad(fmt::format("'len' {} is more than max_file_size {}", s.len, h.max_file_size));
  if (s.off > h.max_file_size || s.off + s.len > 2 * h.max_file_size)
    bad(fmt::format("'off' {} + 'len' {} reaches past twice max_file_size {}", s.off, s.len, h.max_file_size));
  if (s.len * s.qd > kMaxStepBuffer)
    bad(fmt::format("'len' {} times 'qd' {} asks for more than {} of buffer", s.len, s.qd, kMaxStepBuffer));
  if (s.src_off > h.max_file_size) bad(fmt::format("'src_off' {} is past max_file_size {}", s.src_off, h.max_file_size));
  if (s.buf_misalign > 4095) bad(fmt::format("'misalign' {} is not below a page (4096)", s.buf_misalign));
  if (s.fault_ms > 60000) bad(fmt::format("'fault_ms' {} is more than a minute", s.fault_ms));
}

}  // namespace dt
