// A running zeqvpn node: the TUN device, the data-plane workers, and the
// control thread's event loop (handshakes, timers, signals, and whatever the
// daemon attaches to it, such as the control socket). Boost.Asio stays inside
// node.cpp; this header only forward-declares the io_context.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "core/result.hpp"
#include "crypto/secret_bytes.hpp"
#include "identity/key_file.hpp"
#include "mesh/node_status.hpp"

namespace boost::asio {
class io_context;
}

namespace zeq {

class TunnelStore;

class Node {
 public:
  // Sets up everything (TUN, addresses, routes, sockets) or nothing: on
  // failure whatever was created is removed again before returning. With a
  // store, tunnel lifecycle rows are written to it (it must outlive the node).
  static Result<std::unique_ptr<Node>> create(const Config& config, LocalIdentity identity, SecretBuffer mesh_secret,
                                              TunnelStore* store);
  ~Node();

  // Called on the control thread. on_reload_signal runs on SIGHUP.
  struct Hooks {
    std::function<void()> on_ready;          // workers running, first handshakes sent
    std::function<void()> on_stopping;       // SIGTERM/SIGINT received
    std::function<void()> on_reload_signal;  // SIGHUP
  };
  void set_hooks(Hooks hooks);

  // The control thread's event loop, for attaching more work to it.
  boost::asio::io_context& io();

  // Runs until SIGTERM or SIGINT, then tears the tunnel down, wipes keys and
  // removes the interface. SIGUSR1 logs the status of every peer.
  int run();

  // ---- control thread only (from hooks or handlers on io()) ----
  NodeStatus status() const;
  // PEER is a peer's name or ZID; errors name it and list the known ones.
  // check_peer: ok when PEER is configured, else that error.
  Status check_peer(const std::string& peer) const;
  Status peer_down(const std::string& peer);
  Status peer_up(const std::string& peer);
  Status rekey(const std::string& peer);
  // `zeqvpnctl cover on|off [PEER]` (empty: every peer): holds until the
  // next `cover` command or a restart.
  Status cover(const std::string& peer, bool on);
  // `zeqvpnctl killswitch arm|disarm`: holds until the other or a restart.
  Status killswitch_arm();
  Status killswitch_disarm();
  // Applies a new configuration's peers and log level; the interface section
  // must be unchanged. Returns a one-line summary of what changed. On error
  // the running configuration stays as it was.
  Result<std::string> reload(const Config& next);
  const Config& config() const;

 private:
  struct Impl;
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zeq
