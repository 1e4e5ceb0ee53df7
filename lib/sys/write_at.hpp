// Writing a file safely in a directory another user may be able to write
// (write_file_atomic in lib/sys/sys.hpp is this under the file's directory).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace dt {

// temp + fsync + rename + fsync(dir) under an open directory: the temporary
// file gets an unpredictable name and is created O_EXCL|O_NOFOLLOW, so a
// symlink planted in the directory never redirects the write; it is removed
// again if anything fails (a full or read-only disk leaves no .tmp behind).
// Errors (std::system_error with the errno) name `shown` (the file as the
// user knows it), the error and what to do.
void write_file_atomic_at(int dirfd, const std::string& name, std::string_view data, mode_t mode,
                          const std::string& shown = "");

}  // namespace dt
