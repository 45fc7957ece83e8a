#include "relay/metadata_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <string_view>

namespace zeq {

namespace {

constexpr mode_t FILE_MODE = 0640;
constexpr mode_t DIR_MODE = 0750;
// Where the fix is made, for every error line.
constexpr const char* SETTING = "relay.metadata_log_file";

std::string errno_text(int e) { return std::strerror(e); }

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string zid_field(const std::string& zid) {
  if (zid.empty()) return "-";
  std::string out = zid;
  for (char& c : out) {
    bool fine = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                c == ':' || c == '-';
    if (!fine) c = '?';
  }
  return out;
}

std::string endpoint_field(const UdpEndpoint& e) { return e.empty() ? "-" : e.to_string(); }

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    text.remove_prefix(size_t(n));
  }
  return true;
}

// The stop_z of a line record() wrote; nullopt when the line is not one.
std::optional<uint64_t> stop_of(std::string_view line) {
  constexpr std::string_view key = "stop_z=";
  if (line.substr(0, key.size()) != key) return std::nullopt;
  line.remove_prefix(key.size());
  uint64_t z = 0;
  auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), z);
  if (ec != std::errc() || end == line.data() || end == line.data() + line.size() || *end != '\t') return std::nullopt;
  return z;
}

}  // namespace

MetadataLog::~MetadataLog() {
  if (fd_ >= 0) ::close(fd_);
}

std::string MetadataLog::line_of(const RelayedPair& pair, const RelayedBytes& bytes, uint64_t stopped_z) {
  return "stop_z=" + std::to_string(stopped_z) + "\trequester=" + zid_field(pair.requester_zid) +
         "\trequester_endpoint=" + endpoint_field(pair.requester_endpoint) + "\ttarget=" + zid_field(pair.target_zid) +
         "\ttarget_endpoint=" + endpoint_field(pair.target_endpoint) + "\tstart_z=" + std::to_string(pair.started_z) +
         "\tup_bytes=" + std::to_string(bytes.up) + "\tdown_bytes=" + std::to_string(bytes.down);
}

Status MetadataLog::open() {
  if (!enabled() || fd_ >= 0) return Status::ok();
  const std::string what = "relay metadata log " + path_;
  if (path_.empty() || path_.back() == '/')
    return Status::error("relay metadata log: '" + path_ + "' is not a file path; set " + SETTING +
                         " to a file, e.g. /var/log/zeqvpn/relay-metadata.log");
  const std::string dir = directory_of(path_);
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT || ::mkdir(dir.c_str(), DIR_MODE) != 0) {
      int e = errno;
      return Status::error(what + ": cannot create its directory " + dir + " (" + errno_text(e) + "); create it (mode " +
                           "0750, writable by zeqvpnd) or set " + SETTING + " to another path");
    }
    (void)::chmod(dir.c_str(), DIR_MODE);  // whatever the umask took away
  } else if (!S_ISDIR(st.st_mode)) {
    return Status::error(what + ": " + dir + " is not a directory; set " + SETTING + " to a path in a directory");
  }
  // O_NOFOLLOW: a privileged daemon does not append to whatever a symbolic
  // link planted at the path points to.
  const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
  bool created = true;
  int fd = ::open(path_.c_str(), flags | O_CREAT | O_EXCL, FILE_MODE);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = ::open(path_.c_str(), flags);
  }
  if (fd < 0) {
    int e = errno;
    if (e == ELOOP)
      return Status::error(what + " is a symbolic link, which is not followed; point " + SETTING +
                           " at the real file");
    return Status::error(what + ": cannot open it for appending (" + errno_text(e) + "); check that " + dir +
                         " is writable by zeqvpnd, or set " + SETTING + " to another path");
  }
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::error(what + " is not a regular file; set " + SETTING + " to a file path");
  }
  // A new file is 0640 whatever the umask; an existing one is never left
  // more open than that (an operator's 0600 stays).
  if (created)
    (void)::fchmod(fd, FILE_MODE);
  else if (st.st_mode & 07777 & ~FILE_MODE)
    (void)::fchmod(fd, st.st_mode & FILE_MODE);
  fd_ = fd;
  return Status::ok();
}

Status MetadataLog::record(const RelayedPair& pair, const RelayedBytes& bytes, uint64_t stopped_z) {
  if (!enabled()) return Status::ok();
  if (Status s = open(); !s) return s;
  if (!write_all(fd_, line_of(pair, bytes, stopped_z) + "\n")) {
    int e = errno;
    return Status::error("relay metadata log " + path_ + ": writing failed (" + errno_text(e) +
                         "); free space on its file system or set " + SETTING + " to another path");
  }
  return Status::ok();
}

Result<size_t> MetadataLog::prune(uint64_t now_z) {
  if (!enabled()) return size_t(0);
  const std::string what = "relay metadata log " + path_;
  int in = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) {
    int e = errno;
    if (e == ENOENT) return size_t(0);  // nothing recorded yet
    return Status::error(what + ": cannot read it to prune it (" + errno_text(e) + "); check its permissions");
  }
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(in);
      return Status::error(what + ": reading it to prune it failed (" + errno_text(e) + "); check the disk");
    }
    if (n == 0) break;
    text.append(buf, size_t(n));
  }
  ::close(in);

  std::string kept;
  size_t dropped = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    bool whole = end != std::string::npos;
    std::string_view line(text.data() + at, (whole ? end : text.size()) - at);
    at = whole ? end + 1 : text.size();
    auto stop = whole ? stop_of(line) : std::nullopt;
    bool old = !stop || (now_z > *stop && now_z - *stop > retention_z_);
    if (old) {
      ++dropped;
      continue;
    }
    kept.append(line);
    kept.push_back('\n');
  }
  if (dropped == 0) return size_t(0);

  const std::string tmp = path_ + ".prune-" + std::to_string(::getpid());
  ::unlink(tmp.c_str());  // a leftover of an earlier run with this pid
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, FILE_MODE);
  if (out < 0) {
    int e = errno;
    return Status::error(what + ": cannot create " + tmp + " to prune it (" + errno_text(e) + "); check that " +
                         directory_of(path_) + " is writable by zeqvpnd");
  }
  (void)::fchmod(out, FILE_MODE);  // whatever the umask took away
  bool written = write_all(out, kept) && ::fsync(out) == 0;
  int e = errno;
  ::close(out);
  if (!written) {
    ::unlink(tmp.c_str());
    return Status::error(what + ": writing the pruned copy failed (" + errno_text(e) +
                         "); free space on its file system; the log is unchanged");
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    e = errno;
    ::unlink(tmp.c_str());
    return Status::error(what + ": cannot replace it with the pruned copy (" + errno_text(e) + "); check that " +
                         directory_of(path_) + " is writable by zeqvpnd; the log is unchanged");
  }
  if (int d = ::open(directory_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    (void)::fsync(d);  // the rename itself made durable
    ::close(d);
  }
  // The descriptor kept for appending still names the old file: reopen.
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    if (Status s = open(); !s) return s;
  }
  return dropped;
}

}  // namespace zeq
