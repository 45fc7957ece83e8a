// zeqvpnctl's side of the control socket: connect, send one request, read one
// reply, with a time limit on each step. Errors say whether the daemon is not
// running, the caller may not use it, or it answered with an error.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace zeq::control {

struct CallResult {
  enum Kind { kOk, kNotRunning, kPermissionDenied, kDaemonError, kProtocolError } kind = kOk;
  nlohmann::json result;      // kOk
  std::string code, message;  // otherwise
};

CallResult call(const std::string& socket_path, const std::string& cmd, const nlohmann::json& args,
                int timeout_ms = 10000);

}  // namespace zeq::control
