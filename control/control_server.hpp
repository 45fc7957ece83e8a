// The daemon's side of the control socket: a Unix stream socket (mode 0660,
// owned by the control group) served on the node's control thread. Each
// connection is checked with SO_PEERCRED before anything is read; refused
// connections get a permission_denied reply and are logged. Requests are
// handed to a Handler one at a time, on the control thread.
//
// Connections are a bounded resource, so each is held to a deadline (a
// complete request within REQUEST_TIMEOUT of connecting or of the previous
// reply, and each reply read within it too) and root is never locked out:
// when every slot is taken, a root client takes the slot of the oldest
// connection waiting for a request (a non-root one first).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
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

// What happened to connections since the server started, for status and
// metrics: a climbing count of refusals or time-outs is a stuck or hostile
// client.
struct ControlCounters {
  uint64_t accepted = 0;            // admitted past SO_PEERCRED and the slot limit
  uint64_t refused_permission = 0;  // not root, not the daemon's user, not in the group
  uint64_t refused_busy = 0;        // every slot taken (non-root)
  uint64_t evicted = 0;             // idle, closed to make room for root
  uint64_t timed_out = 0;           // no complete request, or reply not read, in time
  uint64_t bad_requests = 0;        // a line that is not a valid request (answered bad_request etc.)
};

class ControlServer {
 public:
  // Idle connections hold a file descriptor each; a bound keeps a stuck
  // client (or many) from exhausting them. One more is answered "busy",
  // unless it is root's.
  static constexpr int MAX_CONNECTIONS = 64;
  // zeqvpnctl sends its request as soon as it is connected and reads the
  // reply at once, so it needs milliseconds; 10 s leaves room for a loaded
  // machine and for a person pasting a request into socat, and frees a slot
  // that a stuck or hostile client holds soon enough.
  static constexpr std::chrono::seconds REQUEST_TIMEOUT{10};

  struct Limits {
    int max_connections = MAX_CONNECTIONS;
    std::chrono::milliseconds request_timeout = REQUEST_TIMEOUT;
  };

  // The group that may use the socket besides root, as the group database
  // named it when looked up (no id: no such group, so root only). The
  // lookup can take a millisecond or more (NSS modules such as systemd's),
  // so zeqvpnd makes it while its vault key is being derived.
  struct Group {
    std::string name;
    std::optional<gid_t> id;
  };
  static Group lookup_group(const std::string& name);

  // Creates the socket's directory when missing, replaces a stale socket
  // file, and refuses to start when another daemon answers on it.
  static Result<std::unique_ptr<ControlServer>> listen(boost::asio::io_context& io, const std::string& path,
                                                       const std::string& group, Handler handler);
  // The same with other limits (tests use a short timeout).
  static Result<std::unique_ptr<ControlServer>> listen(boost::asio::io_context& io, const std::string& path,
                                                       const std::string& group, Handler handler, Limits limits);
  // With the group looked up already.
  static Result<std::unique_ptr<ControlServer>> listen(boost::asio::io_context& io, const std::string& path,
                                                       const Group& group, Handler handler, Limits limits);
  ~ControlServer();  // stops accepting and removes the socket file

  // On the control thread (the io_context's), as the handler runs.
  ControlCounters counters() const;
  int open_connections() const;

 private:
  struct Impl;
  explicit ControlServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace zeq::control
