// Where a command works: an existing --test-dir (or TEST_DIR), a scratch
// device pool (or SCRATCH_DEV_POOL) formatted with --profile, or loop images.
// `run` and `bench` take the same options and resolve them here, so both
// refuse and provision in exactly the same way.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/btrfs/scratch.hpp"

namespace dt {

// The options as the user gave them (strings; validated by choose_filesystem).
struct FilesystemRequest {
  std::string test_dir, profile, scratch_pool, scratch_mnt, scratch_size = "4G", mkfs_options, mount_options;
  bool force_mkfs = false;
  std::vector<std::string> allow_fs;
};

struct FilesystemChoice {
  std::optional<std::string> test_dir;  // none: format a scratch filesystem
  std::string test_dir_source;
  std::vector<std::string> allow_fs;
  ScratchOptions scratch;
};

// Command-line flags win over local.config and the environment; a --profile
// asks for a freshly formatted filesystem, so it takes the pool (or loop
// images) even when a TEST_DIR is configured. Throws SetupError (exit 2).
FilesystemChoice choose_filesystem(const FilesystemRequest& req);

// The filesystem itself: a validated test dir, or a ScratchFs that lives as
// long as this object.
class Workspace {
 public:
  explicit Workspace(const FilesystemChoice& choice);
  const std::filesystem::path& dir() const { return dir_; }
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
};

}  // namespace dt
