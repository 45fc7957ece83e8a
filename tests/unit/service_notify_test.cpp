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
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <regex>
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
  EXPECT_EQ(send_service_notification("/", "READY=1"), -EINVAL);
  EXPECT_EQ(send_service_notification("@", "READY=1"), -EINVAL);
  // A path with nobody listening: the send's own error, not a success.
  EXPECT_EQ(send_service_notification("/nonexistent-zeq-dir/notify", "READY=1"), -ENOENT);
}

// sun_path holds 108 bytes: a path of 107 and its NUL, or an abstract name
// of 108 (its '@' becomes the leading NUL; no NUL at the end).
TEST(ServiceNotify, LengthLimitsAreExactlySunPath) {
  std::string dir = "/nonexistent-zeq-dir/";
  std::string path107 = dir + std::string(107 - dir.size(), 'p');
  EXPECT_EQ(send_service_notification(path107.c_str(), "READY=1"), -ENOENT);  // tried: fits
  std::string path108 = path107 + "p";
  EXPECT_EQ(send_service_notification(path108.c_str(), "READY=1"), -EINVAL);

  std::string prefix = "@zeq-" + std::to_string(::getpid()) + "-";
  std::string abstract108 = prefix + std::string(108 - prefix.size(), 'a');
  Listener systemd(abstract108);
  ASSERT_TRUE(systemd.bound());
  EXPECT_EQ(send_service_notification(abstract108.c_str(), "READY=1"), 1);
  EXPECT_EQ(systemd.receive(), "READY=1");
  std::string abstract109 = abstract108 + "a";
  EXPECT_EQ(send_service_notification(abstract109.c_str(), "READY=1"), -EINVAL);
}

// The daemon's calls, reading NOTIFY_SOCKET and WATCHDOG_* from the
// environment as under systemd, and the exact messages systemd gets.
TEST(ServiceNotify, DaemonCallsSendWhatSystemdExpects) {
  std::string name = "@zeq-notify-env-" + std::to_string(::getpid());
  Listener systemd(name);
  ASSERT_TRUE(systemd.bound());
  ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  notify_ready("node zeq-1 on zeq0, 2 peers");
  EXPECT_EQ(systemd.receive(), "READY=1\nSTATUS=node zeq-1 on zeq0, 2 peers");
  notify_reloading();
  std::string reloading = systemd.receive();
  EXPECT_TRUE(std::regex_match(reloading, std::regex("RELOADING=1\nMONOTONIC_USEC=[1-9][0-9]*"))) << reloading;
  notify_watchdog();
  EXPECT_EQ(systemd.receive(), "WATCHDOG=1");
  notify_stopping();
  EXPECT_EQ(systemd.receive(), "STOPPING=1");
  ::unsetenv("NOTIFY_SOCKET");

  ::setenv("WATCHDOG_USEC", "1000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  EXPECT_EQ(watchdog_interval(), microseconds(500000));  // half, as the daemon pings
  ::setenv("WATCHDOG_PID", "1", 1);
  EXPECT_EQ(watchdog_interval(), microseconds(0));
  ::unsetenv("WATCHDOG_PID");
  ::unsetenv("WATCHDOG_USEC");
  EXPECT_EQ(watchdog_interval(), microseconds(0));
}

TEST(ServiceNotify, WatchdogTimeoutFollowsUsecAndPid) {
  const pid_t self = 4242;
  EXPECT_EQ(watchdog_timeout("1000000", nullptr, self), microseconds(1000000));
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
  EXPECT_EQ(watchdog_timeout("1000000", "", self), microseconds(0));  // set but empty
  // The largest interval that stays positive, and one past it.
  EXPECT_EQ(watchdog_timeout("9223372036854775807", nullptr, self), microseconds(INT64_MAX));
  EXPECT_EQ(watchdog_timeout("9223372036854775808", nullptr, self), microseconds(0));
  EXPECT_EQ(watchdog_timeout("18446744073709551615", nullptr, self), microseconds(0));
}

}  // namespace
}  // namespace zeq
