#include "lib/btrfs/copies.hpp"

#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/fiemap.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>
#include <system_error>

#include "lib/btrfs/layout.hpp"

namespace dt {
namespace fs = std::filesystem;

namespace {
constexpr uint64_t kMaxRead = 1 << 20;  // bytes read per copy at a time

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

std::string csum_name(unsigned t) {
  switch (t) {
    case 0: return "crc32c";
    case 1: return "xxhash64";
    case 2: return "sha256";
    case 3: return "blake2b";
  }
  return fmt::format("csum type {}", t);
}

// Extents whose bytes on disk are not the file's bytes, or not known yet.
constexpr uint32_t kNotComparable = FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_ENCODED |
                                    FIEMAP_EXTENT_DATA_ENCRYPTED | FIEMAP_EXTENT_NOT_ALIGNED |
                                    FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_DATA_TAIL | FIEMAP_EXTENT_UNWRITTEN;
}  // namespace

BtrfsFsDevices btrfs_devices(int fd) {
  btrfs_ioctl_fs_info_args fi{};
  fi.flags = BTRFS_FS_INFO_FLAG_CSUM_INFO;
  if (::ioctl(fd, BTRFS_IOC_FS_INFO, &fi) != 0) throw_errno("BTRFS_IOC_FS_INFO");
  BtrfsFsDevices out;
  for (uint8_t b : fi.fsid) out.fsid += fmt::format("{:02x}", b);
  out.sectorsize = fi.sectorsize;
  out.csum_type = (fi.flags & BTRFS_FS_INFO_FLAG_CSUM_INFO) ? csum_name(fi.csum_type) : "crc32c";
  for (uint64_t id = 1; id <= fi.max_id; ++id) {
    btrfs_ioctl_dev_info_args di{};
    di.devid = id;
    if (::ioctl(fd, BTRFS_IOC_DEV_INFO, &di) != 0) {
      if (errno == ENODEV) continue;  // a removed device leaves a gap in the ids
      throw_errno(fmt::format("BTRFS_IOC_DEV_INFO devid {}", id));
    }
    out.devices.push_back({di.devid, reinterpret_cast<const char*>(di.path), di.total_bytes, di.bytes_used});
  }
  if (out.devices.size() != fi.num_devices)
    throw SetupError(fmt::format("btrfs reports {} devices but DEV_INFO found {}; is a device missing?",
                                 fi.num_devices, out.devices.size()));
  return out;
}

std::vector<std::string> describe_btrfs_devices(const fs::path& dir) {
  Fd fd = open_or_throw(dir, O_RDONLY | O_DIRECTORY);
  std::vector<std::string> out;
  for (const auto& d : btrfs_devices(fd.get()).devices)
    out.push_back(fmt::format("devid {} {} ({})", d.devid, d.path, format_size(d.total_bytes)));
  return out;
}

BlockDiff diff_copies(const std::vector<std::span<const uint8_t>>& copies) {
  BlockDiff d;
  if (copies.empty()) return d;
  const size_t n = copies.size();
  auto same = [&](size_t a, size_t b) { return std::memcmp(copies[a].data(), copies[b].data(), copies[a].size()) == 0; };
  unsigned best = 0, best_votes = 0;
  for (unsigned a = 0; a < n; ++a) {
    unsigned votes = 0;
    for (unsigned b = 0; b < n; ++b) votes += same(a, b);
    if (votes > best_votes) best = a, best_votes = votes;
  }
  d.reference = best;
  d.majority = 2 * best_votes > n;
  const auto& ref = copies[best];
  uint32_t first = UINT32_MAX;
  for (unsigned k = 0; k < n; ++k) {
    if (k == best || same(best, k)) continue;
    d.differing.push_back(k);
    uint32_t differing_bytes = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      if (ref[i] == copies[k][i]) continue;
      first = std::min(first, static_cast<uint32_t>(i));
      ++differing_bytes;
    }
    d.count = std::max(d.count, differing_bytes);
  }
  d.first_diff = d.differing.empty() ? 0 : first;
  return d;
}

std::string describe_mismatch(const BlockMismatch& m) {
  std::string s = fmt::format("{} at file offset {}, logical {}: first differing byte {} of the block, {} bytes differ;",
                              m.kind, hex(m.file_offset), hex(m.logical), m.first_diff, m.count);
  for (unsigned i = 0; i < m.locations.size(); ++i) {
    const auto& l = m.locations[i];
    const bool bad = std::find(m.differing.begin(), m.differing.end(), i) != m.differing.end();
    s += fmt::format(" {} devid {} physical {}{}{}", l.role, l.devid, hex(l.physical), bad ? " (" + m.differs_note + ")" : "",
                     i + 1 < m.locations.size() ? "," : "");
  }
  return s;
}

CopyReader::CopyReader(const fs::path& path) : path_(path) {
  fs_fd_ = open_or_throw(path, O_RDONLY);
  devs_ = btrfs_devices(fs_fd_.get());
  refresh();
}

void CopyReader::refresh() {
  try {
    // Devices come and go (device add/remove/replace): ids and paths too.
    BtrfsFsDevices now = btrfs_devices(fs_fd_.get());
    auto key = [](const BtrfsFsDevices& d) {
      std::vector<std::pair<uint64_t, std::string>> k;
      for (const auto& x : d.devices) k.emplace_back(x.devid, x.path);
      return k;
    };
    if (key(now) != key(devs_)) dev_fds_.clear();
    devs_ = std::move(now);
    chunks_ = read_chunk_tree(fs_fd_.get());
  } catch (const std::system_error& e) {
    throw SetupError(fmt::format("cannot read the chunk tree of {} ({}); the copy reader needs root", path_.string(),
                                 e.what()));
  }
}

std::string CopyReader::data_profile() const {
  std::set<std::string> names;
  for (const auto& c : chunks_)
    if (c.is_data()) names.insert(profile_name(c.type));
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : "+") + n;
  return s.empty() ? "none" : s;
}

unsigned CopyReader::min_data_copies() const {
  unsigned m = UINT32_MAX;
  for (const auto& c : chunks_)
    if (c.is_data()) m = std::min(m, c.copies());
  return m == UINT32_MAX ? 0 : m;
}

bool CopyReader::data_has_parity() const {
  return std::any_of(chunks_.begin(), chunks_.end(), [](const Chunk& c) { return c.is_data() && c.is_raid56(); });
}

const std::string& CopyReader::device_path(uint64_t devid) const {
  for (const auto& d : devs_.devices)
    if (d.devid == devid) return d.path;
  throw SetupError(fmt::format("chunk tree names devid {} but the filesystem has no such device", devid));
}

int CopyReader::device_fd(uint64_t devid) {
  auto it = dev_fds_.find(devid);
  if (it != dev_fds_.end()) return it->second.get();
  const std::string& p = device_path(devid);
  Fd fd(::open(p.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC));
  if (!fd) throw SetupError(fmt::format("cannot open btrfs devid {} at {} for reading ({})", devid, p, std::strerror(errno)));
  return dev_fds_.emplace(devid, std::move(fd)).first->second.get();
}

void CopyReader::read(uint64_t devid, uint64_t physical, std::span<uint8_t> out) {
  const int fd = device_fd(devid);
  size_t done = 0;
  while (done < out.size()) {
    ssize_t r = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(physical + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno(fmt::format("read devid {} ({}) at {}", devid, device_path(devid), hex(physical + done)));
    if (r == 0)
      throw SetupError(fmt::format("devid {} ({}) ends before {}", devid, device_path(devid), hex(physical + done)));
    done += static_cast<size_t>(r);
  }
}

void CopyReader::compare_mirrored(const Chunk& c, uint64_t logical, uint64_t len, uint64_t file_off,
                                  CopyComparison* out) {
  const uint32_t bs = devs_.sectorsize;
  const auto places = map_copies(c, logical);
  out->max_copies = std::max<unsigned>(out->max_copies, static_cast<unsigned>(places.size()));
  out->blocks += len / bs;
  if (places.size() < 2) return;
  std::vector<AlignedBuffer> bufs;
  for (const auto& p : places) {
    bufs.emplace_back(len);
    read(p.devid, p.physical, {reinterpret_cast<uint8_t*>(bufs.back().data()), len});
  }
  for (uint64_t b = 0; b < len; b += bs) {
    std::vector<std::span<const uint8_t>> blocks;
    for (const auto& buf : bufs) blocks.emplace_back(reinterpret_cast<const uint8_t*>(buf.data()) + b, bs);
    BlockDiff d = diff_copies(blocks);
    if (d.differing.empty()) continue;
    BlockMismatch m{.kind = "copies differ", .file_offset = file_off + b, .logical = logical + b};
    for (unsigned k = 0; k < places.size(); ++k)
      m.locations.push_back({fmt::format("copy {}", k + 1), places[k].devid, places[k].physical + b});
    m.differing = d.differing;
    if (!d.majority) m.differs_note = fmt::format("differs from {}, no majority says which is right",
                                                  m.locations[d.reference].role);
    m.first_diff = d.first_diff;
    m.count = d.count;
    out->mismatches.push_back(std::move(m));
  }
}

void CopyReader::check_parity(const Chunk& c, uint64_t stripe_logical, const LogicalIndex& index,
                              CopyComparison* out) {
  const uint32_t bs = devs_.sectorsize;
  const FullStripe fst = full_stripe(c, stripe_logical);
  const uint64_t sl = c.stripe_len;
  std::vector<AlignedBuffer> data;
  std::vector<std::span<const uint8_t>> spans;
  for (const auto& d : fst.data) {
    data.emplace_back(sl);
    read(d.devid, d.physical, {reinterpret_cast<uint8_t*>(data.back().data()), sl});
    spans.emplace_back(reinterpret_cast<const uint8_t*>(data.back().data()), sl);
  }
  std::vector<Placement> parity = {fst.p};
  if (fst.q) parity.push_back(*fst.q);
  // The file offset of the compared block at `l`, if `l` holds one.
  auto file_offset_of = [&](uint64_t l) -> std::optional<uint64_t> {
    auto it = index.upper_bound(l);
    if (it == index.begin() || l - std::prev(it)->first >= std::prev(it)->second.len) return std::nullopt;
    return std::prev(it)->second.file_off + (l - std::prev(it)->first);
  };
  // Only the rows (one block offset across the data elements) that hold a
  // compared block are judged. The other rows belong to other extents, which
  // may be in the middle of being written while this reads: a concurrent
  // balance relocating data made rows outside the compared range disagree
  // with their parity for a moment (torture --profile raid5 --events
  // balance, raid6 with device events alike, with discard or without),
  // while the same seed without events, and scrub, were clean.
  std::vector<bool> judged(sl / bs);
  for (uint64_t b = 0; b < sl; b += bs)
    for (unsigned k = 0; k < fst.data.size() && !judged[b / bs]; ++k)
      judged[b / bs] = file_offset_of(fst.logical + k * sl + b).has_value();
  for (unsigned pi = 0; pi < parity.size(); ++pi) {
    AlignedBuffer stored(sl);
    read(parity[pi].devid, parity[pi].physical, {reinterpret_cast<uint8_t*>(stored.data()), sl});
    std::vector<uint8_t> want(sl);
    if (pi == 0) raid5_parity(spans, want);
    else raid6_q(spans, want);
    for (uint64_t b = 0; b < sl; b += bs) {
      if (!judged[b / bs]) continue;
      std::vector<std::span<const uint8_t>> pair = {{want.data() + b, bs},
                                                    {reinterpret_cast<const uint8_t*>(stored.data()) + b, bs}};
      BlockDiff d = diff_copies(pair);
      if (d.differing.empty()) continue;
      BlockMismatch m{.kind = pi == 0 ? "P parity mismatch" : "Q parity mismatch"};
      // Name every data block this parity block covers, and which of them
      // belong to the compared file range; the first of those names the row.
      bool named = false;
      for (unsigned k = 0; k < fst.data.size(); ++k) {
        const uint64_t l = fst.logical + k * sl + b;
        std::string role = fmt::format("data {} (logical {}", k, hex(l));
        if (auto foff = file_offset_of(l)) {
          role += fmt::format(", file {}", hex(*foff));
          if (!named) {
            m.file_offset = *foff;
            m.logical = l;
            named = true;
          }
        }
        m.locations.push_back({role + ")", fst.data[k].devid, fst.data[k].physical + b});
      }
      m.locations.push_back({"P", fst.p.devid, fst.p.physical + b});
      if (fst.q) m.locations.push_back({"Q", fst.q->devid, fst.q->physical + b});
      m.differing = {static_cast<unsigned>(fst.data.size() + pi)};
      m.differs_note = "does not match the data blocks";
      m.first_diff = d.first_diff;
      m.count = d.count;
      out->mismatches.push_back(std::move(m));
    }
  }
  ++out->parity_stripes;
}

CopyComparison CopyReader::compare(int fd, uint64_t off, uint64_t len) {
  if (::fsync(fd) != 0) throw_errno("fsync before comparing copies");
  if (::syncfs(fd) != 0) throw_errno("syncfs before comparing copies");
  refresh();
  const uint32_t bs = devs_.sectorsize;
  const uint64_t start = off / bs * bs, end = (off + len + bs - 1) / bs * bs;
  CopyComparison out;
  std::set<std::string> profiles;
  LogicalIndex index;
  std::vector<std::pair<const Chunk*, uint64_t>> stripes;  // raid56 full stripes to check
  for (const Extent& e : fiemap(fd)) {
    const uint64_t a0 = std::max(start, e.logical), b = std::min(end, e.logical + e.length);
    if (a0 >= b) continue;
    if (e.flags & kNotComparable) {
      out.not_comparable += b - a0;
      continue;
    }
    index[e.physical + (a0 - e.logical)] = {a0, b - a0};
    for (uint64_t a = a0; a < b;) {
      const uint64_t logical = e.physical + (a - e.logical);
      const Chunk* c = find_chunk(chunks_, logical);
      if (!c)
        throw SetupError(fmt::format("file offset {} maps to logical {}, which no chunk holds", hex(a), hex(logical)));
      profiles.insert(profile_name(c->type));
      const uint64_t n = std::min({b - a, contiguous_bytes(*c, logical), kMaxRead});
      if (c->is_raid56()) {
        out.blocks += n / bs;
        const uint64_t fs_start = full_stripe(*c, logical).logical;
        if (stripes.empty() || stripes.back().second != fs_start) stripes.emplace_back(c, fs_start);
      } else {
        compare_mirrored(*c, logical, n, a, &out);
      }
      a += n;
    }
  }
  std::sort(stripes.begin(), stripes.end(), [](auto& x, auto& y) { return x.second < y.second; });
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  for (const auto& [c, l] : stripes) {
    out.max_copies = std::max(out.max_copies, 1u);
    check_parity(*c, l, index, &out);
  }
  for (const auto& p : profiles) out.profile += (out.profile.empty() ? "" : "+") + p;
  return out;
}

std::vector<CopyLocation> CopyReader::locate(int fd, uint64_t off) {
  refresh();
  for (const Extent& e : fiemap(fd)) {
    if (off < e.logical || off >= e.logical + e.length) continue;
    const uint64_t logical = e.physical + (off - e.logical);
    const Chunk* c = find_chunk(chunks_, logical);
    if (!c) break;
    std::vector<CopyLocation> out;
    const auto places = map_copies(*c, logical);
    for (unsigned k = 0; k < places.size(); ++k)
      out.push_back({c->is_raid56() ? "data" : fmt::format("copy {}", k + 1), places[k].devid, places[k].physical});
    if (c->is_raid56()) {
      const FullStripe fst = full_stripe(*c, logical);
      const uint64_t in_elem = (logical - c->logical) % c->stripe_len;
      out.push_back({"P", fst.p.devid, fst.p.physical + in_elem});
      if (fst.q) out.push_back({"Q", fst.q->devid, fst.q->physical + in_elem});
    }
    return out;
  }
  throw SetupError(fmt::format("file offset {} is not in any extent", hex(off)));
}

std::string ScrubTotals::summary() const {
  return fmt::format("{} of data scrubbed: {} read errors, {} checksum errors, {} verify errors, {} super errors, {} "
                     "uncorrectable, {} blocks without checksum",
                     format_size(data_bytes), read_errors, csum_errors, verify_errors, super_errors, uncorrectable,
                     no_csum_blocks);
}

ScrubTotals scrub_readonly(int fs_fd, const BtrfsFsDevices& devs) {
  ScrubTotals t;
  for (const auto& d : devs.devices) {
    btrfs_ioctl_scrub_args a{};
    a.devid = d.devid;
    a.start = 0;
    a.end = UINT64_MAX;
    a.flags = BTRFS_SCRUB_READONLY;
    if (::ioctl(fs_fd, BTRFS_IOC_SCRUB, &a) != 0)
      throw_errno(fmt::format("BTRFS_IOC_SCRUB devid {} ({})", d.devid, d.path));
    const auto& p = a.progress;
    t.data_bytes += p.data_bytes_scrubbed;
    t.read_errors += p.read_errors;
    t.csum_errors += p.csum_errors;
    t.verify_errors += p.verify_errors;
    t.super_errors += p.super_errors;
    t.uncorrectable += p.uncorrectable_errors;
    t.no_csum_blocks += p.no_csum;
  }
  return t;
}

void corrupt_copy(const std::string& device_path, uint64_t physical, uint32_t len) {
  // A loop device is corrupted through its backing image, the way a failing
  // disk would change it underneath the filesystem; other devices directly.
  std::string target = device_path;
  uint64_t base = 0;
  if (device_path.rfind("/dev/loop", 0) == 0) {
    const std::string name = device_path.substr(5);
    std::string backing = trim(read_file_or_empty("/sys/block/" + name + "/loop/backing_file"));
    if (!backing.empty() && fs::exists(backing)) {
      target = backing;
      base = std::stoull("0" + trim(read_file_or_empty("/sys/block/" + name + "/loop/offset")));
    }
  }
  const uint64_t a = (physical / 4096) * 4096, e = (physical + len + 4095) / 4096 * 4096;
  Fd fd = open_or_throw(target, O_RDWR | O_DIRECT);
  AlignedBuffer buf(e - a);
  if (::pread(fd.get(), buf.data(), e - a, static_cast<off_t>(base + a)) != static_cast<ssize_t>(e - a))
    throw_errno("read before corrupting " + target);
  for (uint64_t i = physical - a; i < physical - a + len; ++i) buf.data()[i] = static_cast<char>(~buf.data()[i]);
  if (::pwrite(fd.get(), buf.data(), e - a, static_cast<off_t>(base + a)) != static_cast<ssize_t>(e - a))
    throw_errno("corrupt " + target);
  if (::fsync(fd.get()) != 0) throw_errno("fsync " + target);
  // Drop clean cached pages of the filesystem on top so nothing serves the old bytes.
  ::sync();
  write_proc("/proc/sys/vm/drop_caches", "3");
}

}  // namespace dt
