#include "dns/resolv_conf.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace zeq {

namespace {

Status write_file(const std::string& path, const std::string& text, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0) return Status::error(path + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) return Status::error(path + ": writing failed: " + std::strerror(err));
  return Status::ok();
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(path + ": cannot read: " + std::strerror(errno));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

std::string resolv_conf_backup_path(const std::string& state_database) {
  size_t slash = state_database.rfind('/');
  return (slash == std::string::npos ? std::string(".") : state_database.substr(0, slash)) + "/resolv.conf.backup";
}

std::string ResolvConf::render(const std::vector<IpPrefix>& servers) {
  std::string out =
      "# Written by zeqvpnd: names resolve through the zeqvpn peer's resolver.\n"
      "# The original file comes back when zeqvpnd stops (or at its next start).\n";
  for (const auto& s : servers) out += "nameserver " + s.address() + "\n";
  return out;
}

Status ResolvConf::point_at(const std::vector<IpPrefix>& servers) {
  if (!exists(backup_)) {
    auto original = read_file(path_);
    if (!original) return Status::error("dns: " + original.message());
    // O_EXCL: a backup is never overwritten, so the original survives even
    // if two changes race.
    if (Status s = write_file(backup_, *original, O_CREAT | O_EXCL, 0600); !s) return Status::error("dns: backup " + s.message());
  }
  if (Status s = write_file(path_, render(servers), O_TRUNC, 0644); !s) return Status::error("dns: " + s.message());
  return Status::ok();
}

Status ResolvConf::restore() {
  if (!exists(backup_)) return Status::ok();
  auto original = read_file(backup_);
  if (!original) return Status::error("dns: " + original.message());
  if (Status s = write_file(path_, *original, O_TRUNC | O_CREAT, 0644); !s)
    return Status::error("dns: restoring " + path_ + ": " + s.message() + "; the original is kept in " + backup_);
  ::unlink(backup_.c_str());
  return Status::ok();
}

Result<bool> ResolvConf::recover() {
  if (!exists(backup_)) return false;
  if (Status s = restore(); !s) return s;
  return true;
}

}  // namespace zeq
