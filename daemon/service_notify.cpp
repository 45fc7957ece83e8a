#include "daemon/service_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace zeq {

namespace {

// A decimal number with nothing around it, as systemd writes them.
bool parse_u64(const char* text, uint64_t& out) {
  if (!text || !*text) return false;
  const char* end = text + std::strlen(text);
  auto [ptr, ec] = std::from_chars(text, end, out);
  return ec == std::errc() && ptr == end;
}

void notify(std::string_view message) { (void)send_service_notification(std::getenv("NOTIFY_SOCKET"), message); }

}  // namespace

int send_service_notification(const char* notify_socket, std::string_view message) {
  if (!notify_socket || !*notify_socket) return 0;
  std::string_view name(notify_socket);
  // systemd also hands out "vsock:CID:PORT" to VMs; a daemon on a host
  // never gets one, so it is refused, not half supported.
  if (name[0] != '/' && name[0] != '@') return name.starts_with("vsock") ? -EAFNOSUPPORT : -EINVAL;
  if (name.size() < 2) return -EINVAL;  // "/" or "@" alone names no socket (as sd_notify says too)

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (name.size() > sizeof(addr.sun_path) - (name[0] == '/' ? 1 : 0)) return -EINVAL;
  std::memcpy(addr.sun_path, name.data(), name.size());
  if (name[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace; its length counts, no NUL at the end
  socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + name.size() + (name[0] == '/' ? 1 : 0));

  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  ssize_t sent = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  int err = sent < 0 ? errno : (size_t(sent) != message.size() ? EMSGSIZE : 0);
  ::close(fd);
  return err ? -err : 1;
}

std::chrono::microseconds watchdog_timeout(const char* watchdog_usec, const char* watchdog_pid, pid_t self) {
  uint64_t usec = 0;
  // Past INT64_MAX the interval would turn negative and the watchdog timer
  // fire without pause; systemd itself never passes "infinity" here.
  if (!parse_u64(watchdog_usec, usec) || usec == 0 || usec > uint64_t(INT64_MAX)) return std::chrono::microseconds(0);
  if (watchdog_pid) {  // set but empty or another number: not for us (sd_watchdog_enabled(3) reads it so too)
    uint64_t pid = 0;
    if (!parse_u64(watchdog_pid, pid) || pid != uint64_t(self)) return std::chrono::microseconds(0);
  }
  return std::chrono::microseconds(int64_t(usec));
}

void notify_ready(const std::string& status) { notify("READY=1\nSTATUS=" + status); }

void notify_reloading() {
  // RELOADING=1 with MONOTONIC_USEC is what Type=notify-reload expects too.
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t usec = uint64_t(ts.tv_sec) * 1000000u + uint64_t(ts.tv_nsec) / 1000u;
  notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void notify_stopping() { notify("STOPPING=1"); }

void notify_watchdog() { notify("WATCHDOG=1"); }

std::chrono::microseconds watchdog_interval() {
  return watchdog_timeout(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"), ::getpid()) / 2;
}

}  // namespace zeq
