// The sd_notify protocol spoken without libsystemd: datagrams to a real
// socket at a path and at an abstract name, the names systemd may pass that
// are refused, and WATCHDOG_USEC / WATCHDOG_PID as sd_watchdog_enabled(3)
// reads them.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>

#include "daemon/service_notify.hpp"

namespace zeq {
namespace {

using std::chrono::microseconds;

// A datagram socket bound where systemd would listen; reads with a 2 s limit.
class Listener {
 public:
  explicit Listener(const std::string& name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + name.size());
    if (name[0] == '@') addr.sun_path[0] = '\0';
    else len += 1;
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0;
    timeval tv{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~Listener() { ::close(fd_); }
  bool bound() const { return bound_; }
  std::string receive() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    return n < 0 ? std::string("(nothing: ") + std::strerror(errno) + ")" : std::string(buf, size_t(n));
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
};

TEST(ServiceNotify, SendsOneDatagramToASocketPath) {
  auto dir = std::filesystem::temp_directory_path() / ("zeq-notify-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "notify").string();
  {
    Listener systemd(path);
    ASSERT_TRUE(systemd.bound()) << path;
    EXPECT_EQ(send_service_notification(path.c_str(), "READY=1\nSTATUS=node zeq-1 up"), 1);
    EXPECT_EQ(systemd.receive(), "READY=1\nSTATUS=node zeq-1 up");
    EXPECT_EQ(send_service_notification(path.c_str(), "WATCHDOG=1"), 1);
    EXPECT_EQ(systemd.receive(), "WATCHDOG=1");
  }
  std::filesystem::remove_all(dir);
}

TEST(ServiceNotify, SendsToAnAbstractName) {
  std::string name = "@zeq-notify-test-" + std::to_string(::getpid());
  Listener systemd(name);
  ASSERT_TRUE(systemd.bound());
  EXPECT_EQ(send_service_notification(name.c_str(), "STOPPING=1"), 1);
  EXPECT_EQ(systemd.receive(), "STOPPING=1");
}

TEST(ServiceNotify, OutsideSystemdNothingIsSent) {
  EXPECT_EQ(send_service_notification(nullptr, "READY=1"), 0);
  EXPECT_EQ(send_service_notification("", "READY=1"), 0);
}

TEST(ServiceNotify, RefusesNamesThatAreNoUsableSocket) {
  EXPECT_EQ(send_service_notification("run/systemd/notify", "READY=1"), -EINVAL);  // relative
  EXPECT_EQ(send_service_notification("vsock:2:1234", "READY=1"), -EAFNOSUPPORT);
  std::string too_long = "/" + std::string(sizeof(sockaddr_un{}.sun_path), 'x');
  EXPECT_EQ(send_service_notification(too_long.c_str(), "READY=1"), -EINVAL);
  // A path with nobody listening: the send's own error, not a success.
  int r = send_service_notification("/nonexistent-zeq-dir/notify", "READY=1");
  EXPECT_EQ(r, -ENOENT);
}

TEST(ServiceNotify, WatchdogTimeoutFollowsUsecAndPid) {
  const pid_t self = 4242;
  EXPECT_EQ(watchdog_timeout("1000000", nullptr, self), microseconds(1000000));
  EXPECT_EQ(watchdog_timeout("1000000", "", self), microseconds(1000000));
  EXPECT_EQ(watchdog_timeout("1000000", "4242", self), microseconds(1000000));
  // Meant for another process (a child that inherited the environment).
  EXPECT_EQ(watchdog_timeout("1000000", "4243", self), microseconds(0));
  // Off or malformed.
  EXPECT_EQ(watchdog_timeout(nullptr, nullptr, self), microseconds(0));
  EXPECT_EQ(watchdog_timeout("", nullptr, self), microseconds(0));
  EXPECT_EQ(watchdog_timeout("0", nullptr, self), microseconds(0));
  EXPECT_EQ(watchdog_timeout("-5", nullptr, self), microseconds(0));
  EXPECT_EQ(watchdog_timeout("10s", nullptr, self), microseconds(0));
  EXPECT_EQ(watchdog_timeout("1000000", "42x", self), microseconds(0));
}

}  // namespace
}  // namespace zeq
