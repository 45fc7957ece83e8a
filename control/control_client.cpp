#include "control/control_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "control/control_protocol.hpp"

namespace zeq::control {

namespace {

// Replies (status of many peers, metrics, a directory of 10 000 records at
// about 500 bytes each) may be far larger than a request; the bound only
// keeps a broken daemon from making the client read forever.
constexpr size_t MAX_REPLY = 1024 * MAX_LINE;  // 64 MiB

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

CallResult failure(CallResult::Kind kind, std::string code, std::string message) {
  CallResult r;
  r.kind = kind;
  r.code = std::move(code);
  r.message = std::move(message);
  return r;
}

// Connects to the daemon's socket; a failure says whether it is not running
// or the caller may not use it.
CallResult connect_to(const std::string& path, Fd& s) {
  s.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s.fd < 0) return failure(CallResult::kProtocolError, "", std::string("socket: ") + std::strerror(errno));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return failure(CallResult::kProtocolError, "", path + ": path too long");
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  if (connect(s.fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return CallResult{};
  int err = errno;
  if (err == EACCES || err == EPERM)
    return failure(CallResult::kPermissionDenied, PERMISSION_DENIED,
                   "permission denied on " + path + ": run as root or as a member of the control group (zeqvpn)");
  return failure(CallResult::kNotRunning, "",
                 "zeqvpnd is not running (no daemon on " + path + ": " + std::strerror(err) +
                     "); start it (systemctl start zeqvpnd) or pass --socket");
}

// Sends the whole line; returns what went wrong, empty when nothing did.
std::string send_line(int fd, const std::string& line) {
  for (size_t sent = 0; sent < line.size();) {
    ssize_t n = send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return std::string("sending to zeqvpnd: ") + std::strerror(errno);
    sent += size_t(n);
  }
  return "";
}

// Reads up to the first newline, within timeout_ms in all. send_error is
// what sending reported: a daemon that refuses us writes its reason and
// closes at once, so what it sent back is read before that error is shown.
CallResult read_line(int fd, int timeout_ms, const std::string& send_error, std::string& line) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (line.find('\n') == std::string::npos) {
    int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, left) <= 0)
      return failure(CallResult::kProtocolError, "", "zeqvpnd did not answer within " + std::to_string(timeout_ms / 1000) + " s");
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      return failure(CallResult::kProtocolError, "",
                     send_error.empty() ? "zeqvpnd closed the connection without answering" : send_error);
    line.append(buf, size_t(n));
    if (line.size() > MAX_REPLY) return failure(CallResult::kProtocolError, "", "reply from zeqvpnd is too long");
  }
  line.resize(line.find('\n'));
  return CallResult{};
}

CallResult parse_reply(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok"))
    return failure(CallResult::kProtocolError, "", "zeqvpnd sent a reply that is not control protocol JSON");
  if (j["ok"] == true) {
    CallResult r;
    r.result = j.value("result", nlohmann::json::object());
    return r;
  }
  auto err = j.value("error", nlohmann::json::object());
  std::string code = err.value("code", "");
  return failure(code == PERMISSION_DENIED ? CallResult::kPermissionDenied : CallResult::kDaemonError, code,
                 err.value("message", "zeqvpnd reported an error"));
}

}  // namespace

CallResult call(const std::string& path, const std::string& cmd, const nlohmann::json& args, int timeout_ms) {
  Fd s;
  if (CallResult r = connect_to(path, s); r.kind != CallResult::kOk) return r;
  nlohmann::json request = {{"v", PROTOCOL_VERSION}, {"id", 1}, {"cmd", cmd}, {"args", args}};
  std::string send_error = send_line(s.fd, request.dump() + "\n");
  std::string line;
  if (CallResult r = read_line(s.fd, timeout_ms, send_error, line); r.kind != CallResult::kOk) return r;
  return parse_reply(line);
}

}  // namespace zeq::control
