// Relay over TCP, the relay's side (docs/protocol.md, "Relay over TCP"):
// members whose UDP is blocked reach the relay on a TCP port
// (`relay.tcp_listen`, [::]:443 by default). Each connection is bridged to
// the relay's own UDP port through a loopback socket of its own
// (relay/stream_bridge.hpp), so a framed message is handled exactly as the
// same datagram would be: the same checks, drops and counters, and the
// client's endpoint roams to the connection it last sent on, so the replies
// go back on that connection.
//
// A hostile client costs bounded resources: connections are limited in
// total and per source address (more are closed at once), a connection
// that sends no whole frame for IDLE_US, or leaves a frame unfinished for
// FRAME_DEADLINE_US (slowloris), is closed, a bad frame length closes it,
// and each connection's write queue is bounded. Runs on a thread of its
// own (the control thread never waits on a client's TCP); Boost.Asio stays
// in the .cpp files.
#pragma once

#include <cstdint>
#include <memory>
#include <thread>

#include "core/clock.hpp"
#include "core/net_address.hpp"
#include "core/result.hpp"
#include "relay/tcp_transport_counters.hpp"

namespace zeq {

struct RelayTcpListenerSettings {
  UdpEndpoint listen;           // TCP address and port (the UdpEndpoint type is just address:port)
  uint16_t node_port = 0;       // the relay's UDP port, reached on loopback
  size_t max_connections = 512;
  size_t connections_per_address = 16;
  int64_t idle_us = 0;            // 0: RelayTcpListener::IDLE_US (tests set less)
  int64_t frame_deadline_us = 0;  // 0: RelayTcpListener::FRAME_DEADLINE_US
};

class RelayTcpListener {
 public:
  // A connection with no whole frame for this long is closed. Clients ping
  // their relays every 8 Zeqonds at the least (RelayClient::PING_IDLE_US).
  static constexpr int64_t IDLE_US = 32 * TAU_ZQ_US;
  // A frame begun and not finished within this (or no first frame within
  // this of connecting) closes the connection.
  static constexpr int64_t FRAME_DEADLINE_US = 4 * TAU_ZQ_US;
  static constexpr int64_t SWEEP_US = TAU_ZQ_US / 4;

  // Binds and listens now (before the daemon drops its capabilities: port
  // 443 needs CAP_NET_BIND_SERVICE). The error names the address and the fix.
  static Result<std::unique_ptr<RelayTcpListener>> open(const RelayTcpListenerSettings& settings);
  ~RelayTcpListener();
  // Starts accepting on the listener's own thread.
  void start();
  const TcpTransportCounters& counters() const;
  const UdpEndpoint& listen() const;
  uint16_t local_port() const;  // what port 0 became

 private:
  struct Impl;
  explicit RelayTcpListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zeq
