#include "lib/io/uffd.hpp"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace dt {

UserfaultRegion::UserfaultRegion(size_t len) : map_(Mapping::anonymous(len)) {
  uffd_.reset(static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK)));
  if (!uffd_) throw_errno("userfaultfd");
  uffdio_api api{.api = UFFD_API, .features = 0};
  if (::ioctl(uffd_.get(), UFFDIO_API, &api) != 0) throw_errno("UFFDIO_API");
  uffdio_register reg{};
  reg.range.start = reinterpret_cast<uint64_t>(map_.data());
  reg.range.len = len;
  reg.mode = UFFDIO_REGISTER_MODE_MISSING;
  if (::ioctl(uffd_.get(), UFFDIO_REGISTER, &reg) != 0) throw_errno("UFFDIO_REGISTER");
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe");
  stop_read_.reset(p[0]);
  stop_write_.reset(p[1]);
}

UserfaultRegion::~UserfaultRegion() {
  if (server_.joinable()) {
    (void)!::write(stop_write_.get(), "x", 1);
    server_.join();
  }
}

void UserfaultRegion::serve(std::function<void(size_t, char*)> fill) {
  server_ = std::thread([this, fill = std::move(fill)] {
    const size_t ps = page_size();
    AlignedBuffer page(ps);
    for (;;) {
      pollfd fds[2] = {{uffd_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents) return;
      uffd_msg msg{};
      if (::read(uffd_.get(), &msg, sizeof msg) != sizeof msg || msg.event != UFFD_EVENT_PAGEFAULT) continue;
      const uint64_t addr = msg.arg.pagefault.address & ~(uint64_t{ps} - 1);
      const size_t index = (addr - reinterpret_cast<uint64_t>(map_.data())) / ps;
      fill(index, page.data());
      uffdio_copy copy{};
      copy.dst = addr;
      copy.src = reinterpret_cast<uint64_t>(page.data());
      copy.len = ps;
      ::ioctl(uffd_.get(), UFFDIO_COPY, &copy);  // EEXIST if another fault raced us: fine
    }
  });
}

std::string userfaultfd_unavailable_reason() {
  int fd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  if (fd < 0) return fmt::format("userfaultfd(2) unavailable: {}", std::strerror(errno));
  ::close(fd);
  return {};
}

}  // namespace dt
