#include "tun/sysctl.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace zeq {

namespace {

std::string path_of(const std::string& name) {
  std::string path = "/proc/sys/" + name;
  for (size_t i = 10; i < path.size(); ++i)
    if (path[i] == '.') path[i] = '/';
  return path;
}

}  // namespace

Result<long> read_sysctl(const std::string& name) {
  std::ifstream in(path_of(name));
  long v = 0;
  if (!(in >> v)) return Status::error("reading " + name + " (" + path_of(name) + "): " + std::strerror(errno ? errno : EINVAL));
  return v;
}

Status write_sysctl(const std::string& name, long value) {
  std::ofstream out(path_of(name));
  out << value << '\n';
  out.flush();
  if (!out)
    return Status::error("setting " + name + " = " + std::to_string(value) + ": " + std::strerror(errno ? errno : EIO) +
                         (errno == EACCES || errno == EPERM ? "; zeqvpnd needs CAP_NET_ADMIN" : ""));
  return Status::ok();
}

}  // namespace zeq
