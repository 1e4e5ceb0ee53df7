// Where a command works: an existing --test-dir (or TEST_DIR), a scratch
// device pool (or SCRATCH_DEV_POOL) formatted with --profile, or loop images.
// `run` and `bench` take the same options and resolve them here, so both
// refuse and provision in exactly the same way.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/btrfs/scratch.hpp"

namespace dt {

// Bounds of --scratch-size: btrfs needs 256M; a sparse image over 4T is a
// typo, not a test.
inline constexpr uint64_t kMinScratchSize = 256ull << 20;
inline constexpr uint64_t kMaxScratchSize = 4ull << 40;

// The options as the user gave them (names validated by choose_filesystem,
// numbers by the command line parser).
struct FilesystemRequest {
  std::string test_dir, profile, scratch_pool, scratch_mnt, mkfs_options, mount_options;
  uint64_t scratch_size = 4ull << 30;
  bool force_mkfs = false;
  std::vector<std::string> allow_fs;
};

struct FilesystemChoice {
  std::optional<std::string> test_dir;  // none: format a scratch filesystem
  std::string test_dir_source;
  std::vector<std::string> allow_fs;
  ScratchOptions scratch;
  // Bytes the command will write into the filesystem (files, with slack).
  // Checked against the free space of the --test-dir, or of TMPDIR for the
  // sparse images, before anything runs.
  uint64_t space_needed = kDefaultSpaceNeeded;
  static constexpr uint64_t kDefaultSpaceNeeded = 512ull << 20;
};

// Command-line flags win over local.config and the environment; a --profile
// asks for a freshly formatted filesystem, so it takes the pool (or loop
// images) even when a TEST_DIR is configured. Throws SetupError (exit 2).
FilesystemChoice choose_filesystem(const FilesystemRequest& req);

// The filesystem itself: a validated test dir, or a ScratchFs that lives as
// long as this object.
class Workspace {
 public:
  // First reclaims what killed runs left behind (lib/btrfs/reclaim).
  explicit Workspace(const FilesystemChoice& choice);
  const std::filesystem::path& dir() const { return dir_; }
  // "reclaimed from dead run ...\n" lines, for the run's header; "" if none.
  const std::string& reclaimed() const { return reclaimed_; }
  const std::string& provisioning() const { return provisioning_; }
  // Null on a --test-dir.
  ScratchFs* scratch() { return scratch_.get(); }
  bool can_reprovision() const { return scratch_ && scratch_->can_reprovision(); }
  // After a task got stuck in D state: abandon the scratch fs, make a new one
  // the same way.
  void reprovision();
  // How the current scratch filesystem was made on top of the run's options.
  const FsSpec& spec() const { return spec_; }
  // Tears the scratch filesystem down and makes it afresh as `spec` says.
  void remake(const FsSpec& spec);

 private:
  FilesystemChoice choice_;
  void provision(const FsSpec& spec, bool abandon_old);

  std::unique_ptr<ScratchFs> scratch_;
  FsSpec spec_;
  std::filesystem::path dir_;
  std::string provisioning_;
  std::string reclaimed_;
};

}  // namespace dt
