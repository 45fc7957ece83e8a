// A running zeqvpn node: the TUN device, the data-plane workers, and the
// control thread's event loop (handshakes, timers, signals). Boost.Asio stays
// inside node.cpp; this header is cheap to include.
#pragma once

#include <memory>

#include "config/config.hpp"
#include "core/result.hpp"
#include "crypto/secret_bytes.hpp"
#include "identity/key_file.hpp"

namespace zeq {

class Node {
 public:
  // Sets up everything (TUN, addresses, routes, sockets) or nothing: on
  // failure whatever was created is removed again before returning.
  static Result<std::unique_ptr<Node>> create(const Config& config, LocalIdentity identity, SecretBuffer mesh_secret);
  ~Node();

  // Runs until SIGTERM or SIGINT, then tears the tunnel down, wipes keys and
  // removes the interface. SIGUSR1 logs the status of every peer.
  int run();

 private:
  struct Impl;
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zeq
