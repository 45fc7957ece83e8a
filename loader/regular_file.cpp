#include "loader/regular_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace zeq {

namespace {

struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

std::string file_type_name(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISREG(mode)) return "a regular file";
  return "not a regular file";
}

bool open_to_others(mode_t mode) { return (mode & (S_IRWXG | S_IRWXO)) != 0; }

std::string octal_mode(mode_t mode) {
  char buf[8];
  snprintf(buf, sizeof buf, "%04o", unsigned(mode & 07777));
  return buf;
}

RegularFileRead read_regular_file(const std::string& path, std::span<char> buf) {
  RegularFileRead r;
  auto problem = [&r](RegularFileRead::Problem what, std::string detail) {
    r.problem = what;
    r.detail = std::move(detail);
    r.size = 0;
    return r;
  };
  auto cannot_open = [&problem, &r](int error) {
    r.error = error;
    return problem(RegularFileRead::kCannotOpen, std::strerror(error));
  };
  // O_NONBLOCK: opening a FIFO for reading returns at once instead of
  // waiting for a writer; it is refused below before any read.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return cannot_open(errno);
  FdCloser closer{fd};
  struct stat st{};
  if (::fstat(fd, &st) != 0) return cannot_open(errno);
  if (!S_ISREG(st.st_mode)) return problem(RegularFileRead::kNotRegular, file_type_name(st.st_mode));
  if (st.st_size < 0 || size_t(st.st_size) > buf.size()) return problem(RegularFileRead::kTooLarge, "");
  r.mode = st.st_mode;
  // st_size is a hint (a file may grow while it is read, /proc files say
  // 0): read until end of file, and refuse once more than buf holds.
  for (;;) {
    if (r.size == buf.size()) {
      char extra;
      ssize_t more = ::read(fd, &extra, 1);
      if (more < 0 && errno == EINTR) continue;
      if (more > 0) return problem(RegularFileRead::kTooLarge, "");
      break;
    }
    ssize_t got = ::read(fd, buf.data() + r.size, buf.size() - r.size);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return cannot_open(errno);
    if (got == 0) break;
    r.size += size_t(got);
  }
  return r;
}

}  // namespace zeq
