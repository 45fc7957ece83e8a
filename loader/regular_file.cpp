#include "loader/regular_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "crypto/secret_bytes.hpp"

namespace zeq {

namespace {

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
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

namespace {

RegularFileRead problem(RegularFileRead r, RegularFileRead::Problem what, std::string detail) {
  r.problem = what;
  r.detail = std::move(detail);
  r.size = 0;
  return r;
}

RegularFileRead cannot_open(RegularFileRead r, int error) {
  r.error = error;
  return problem(std::move(r), RegularFileRead::kCannotOpen, std::strerror(error));
}

// Opens path without blocking and checks what it is and its length against
// max_bytes. *fd is the open descriptor when the result is kNone.
RegularFileRead open_regular(const std::string& path, size_t max_bytes, int* fd, off_t* length) {
  RegularFileRead r;
  // O_NONBLOCK: opening a FIFO for reading returns at once instead of
  // waiting for a writer; it is refused below before any read.
  *fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (*fd < 0) return cannot_open(std::move(r), errno);
  struct stat st{};
  if (::fstat(*fd, &st) != 0) return cannot_open(std::move(r), errno);
  if (!S_ISREG(st.st_mode)) return problem(std::move(r), RegularFileRead::kNotRegular, file_type_name(st.st_mode));
  if (st.st_size < 0 || size_t(st.st_size) > max_bytes) return problem(std::move(r), RegularFileRead::kTooLarge, "");
  r.mode = st.st_mode;
  *length = st.st_size;
  return r;
}

// Reads fd to its end into buf; kTooLarge once more than buf holds.
RegularFileRead read_all(int fd, std::span<char> buf, RegularFileRead r) {
  r.size = 0;
  // st_size is a hint (a file may grow while it is read, /proc files say
  // 0): read until end of file, and refuse once more than buf holds.
  for (;;) {
    if (r.size == buf.size()) {
      char extra;
      ssize_t more = ::read(fd, &extra, 1);
      if (more < 0 && errno == EINTR) continue;
      if (more > 0) return problem(std::move(r), RegularFileRead::kTooLarge, "");
      break;
    }
    ssize_t got = ::read(fd, buf.data() + r.size, buf.size() - r.size);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return cannot_open(std::move(r), errno);
    if (got == 0) break;
    r.size += size_t(got);
  }
  return r;
}

// Zeroes text's bytes (a secret may be in them) and empties it.
void wipe(std::string& text) {
  secure_wipe(text.data(), text.size());
  text.clear();
}

}  // namespace

RegularFileRead read_regular_file(const std::string& path, std::span<char> buf) {
  int fd = -1;
  off_t length = 0;
  RegularFileRead r = open_regular(path, buf.size(), &fd, &length);
  FdCloser closer{fd};
  if (!r) return r;
  return read_all(fd, buf, std::move(r));
}

RegularFileRead read_regular_file(const std::string& path, std::string& text, size_t max_bytes) {
  wipe(text);
  int fd = -1;
  off_t length = 0;
  RegularFileRead opened = open_regular(path, max_bytes, &fd, &length);
  FdCloser closer{fd};
  if (!opened) return opened;
  constexpr size_t GROWTH_ROOM = 4096;
  text.assign(std::min(max_bytes, size_t(length) + GROWTH_ROOM), '\0');
  RegularFileRead r = read_all(fd, text, opened);
  if (r.problem == RegularFileRead::kTooLarge && text.size() < max_bytes) {
    // Longer than it said: once more from the start, with all the room
    // allowed (a regular file can seek).
    wipe(text);
    if (::lseek(fd, 0, SEEK_SET) != 0) return cannot_open(std::move(opened), errno);
    text.assign(max_bytes, '\0');
    r = read_all(fd, text, opened);
  }
  if (!r) {
    wipe(text);
    return r;
  }
  text.resize(r.size);
  return r;
}

}  // namespace zeq
