// The daemon's side of the control socket: a Unix stream socket (mode 0660,
// owned by the control group) served on the node's control thread. Each
// connection is checked with SO_PEERCRED before anything is read; refused
// connections get a permission_denied reply and are logged. Requests are
// handed to a Handler one at a time, on the control thread.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/result.hpp"

namespace boost::asio {
class io_context;
}

namespace zeq::control {

struct Reply {
  bool ok = true;
  std::string code, message;             // when !ok
  std::shared_ptr<nlohmann::json> result;  // when ok

  static Reply success(nlohmann::json result);
  static Reply failure(std::string code, std::string message);
};

using Handler = std::function<Reply(const std::string& cmd, const nlohmann::json& args)>;

class ControlServer {
 public:
  // Idle connections hold a file descriptor each; a bound keeps a stuck
  // client (or many) from exhausting them. One more is answered "busy".
  static constexpr int MAX_CONNECTIONS = 64;

  // Creates the socket's directory when missing, replaces a stale socket
  // file, and refuses to start when another daemon answers on it.
  static Result<std::unique_ptr<ControlServer>> listen(boost::asio::io_context& io, const std::string& path,
                                                       const std::string& group, Handler handler);
  ~ControlServer();  // stops accepting and removes the socket file

 private:
  struct Impl;
  explicit ControlServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace zeq::control
