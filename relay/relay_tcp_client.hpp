// Relay over TCP, the client's side (docs/protocol.md, "Relay over TCP"):
// when UDP to a relay fails, the node reaches that relay over TCP (port
// relay_choice.tcp_port, 443 by default) and goes back to UDP once UDP
// answers again.
//
// - UDP is failing when something was sent to the relay (a handshake
//   initiation, a ping, data) and nothing at all has come back for
//   FALLBACK_AFTER_US. RelayClient pings a relay in use every tick while it
//   is quiet and every relay every 8 Zeqonds; what was sent may need no
//   answer (the keepalive that confirms a new key after a rekey), so after
//   a Zeqond of silence a relay Ping asks for one, and a working relay
//   answers well within FALLBACK_AFTER_US (relay/unanswered_wait.hpp).
// - Then a TCP connection to the relay's address (connect timeout
//   CONNECT_TIMEOUT_US; after a failure the next try waits 1, 2, 4, ...
//   Zeqonds, at most BACKOFF_MAX_US) is bridged to a loopback UDP socket
//   (relay/stream_bridge.hpp) and the relay's endpoint in the node becomes
//   that socket's address: every message to the relay, from the workers or
//   the control thread, goes on the stream, framed, and what the relay
//   sends back arrives as from that address. The relay session, the pairs
//   and the end-to-end sessions through them are unchanged (a handshake
//   with the relay only if there was no session).
// - While on TCP, a relay Ping goes to the relay's UDP address every
//   UDP_PROBE_US, sealed in the same session. The relay answers to where
//   the ping came from; an answer over UDP moves the relay's endpoint back
//   (the node's ordinary roaming), which is the sign: the connection is
//   closed and the node is on UDP again.
// - A connection over which nothing comes back for TCP_SILENT_AFTER_US, or
//   that closes, is given up (the relay's endpoint back to its UDP address)
//   and made again after the backoff if UDP still fails.
//
// Control thread (tick, status); the connections run on a transport thread
// of their own. Boost.Asio stays in the .cpp file.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "crypto/random.hpp"
#include "mesh/node.hpp"
#include "relay/tcp_transport_counters.hpp"
#include "relay/unanswered_wait.hpp"

namespace zeq {

struct RelayTcpClientSettings {
  uint16_t port = 443;      // the relays' TCP port
  uint16_t node_port = 0;   // this node's UDP port, reached on loopback
  uint32_t fwmark = 0;      // SO_MARK of the TCP connections (the kill switch lets them out)
};

class RelayTcpClient {
 public:
  static constexpr int64_t FALLBACK_AFTER_US = 3 * TAU_ZQ_US;
  static constexpr int64_t CONNECT_TIMEOUT_US = 2 * TAU_ZQ_US;
  static constexpr int64_t BACKOFF_FIRST_US = TAU_ZQ_US;
  static constexpr int64_t BACKOFF_MAX_US = 32 * TAU_ZQ_US;
  static constexpr int64_t UDP_PROBE_US = 2 * TAU_ZQ_US;
  // On TCP, sent and nothing back for this long: the connection is closed
  // and made again (after the backoff), as after a failed UDP path.
  static constexpr int64_t TCP_SILENT_AFTER_US = 4 * TAU_ZQ_US;

  RelayTcpClient(Node& node, const Clock& clock, RandomSource& random, RelayTcpClientSettings settings);
  ~RelayTcpClient();

  // SessionManager::TICKS_PER_ZEQOND times per Zeqond.
  void tick();

  // Whether messages to this relay go over TCP now.
  bool over_tcp(uint64_t relay_serial) const;
  struct LinkView {
    std::string relay;          // label
    std::string transport;      // udp | tcp | connecting
    std::string udp_endpoint;   // the relay's UDP address
    std::string tcp_endpoint;   // where the connection goes (empty on UDP)
    uint64_t fallbacks = 0, returns = 0;
  };
  std::vector<LinkView> links() const;
  const TcpTransportCounters& counters() const;
  uint64_t fallbacks() const { return fallbacks_; }
  uint64_t returns() const { return returns_; }

 private:
  struct Connection;  // shared with the transport thread
  enum class Mode { kUdp, kConnecting, kTcp };
  struct Link {
    Mode mode = Mode::kUdp;
    UdpEndpoint udp_ep;          // the relay's UDP address, kept while on TCP
    UdpEndpoint shim_ep;         // the bridge's loopback address, as the node sees it
    std::shared_ptr<Connection> conn;
    UnansweredWait wait;         // sent, nothing received since
    int64_t connect_started_us = 0;
    int64_t next_connect_us = 0;
    int failures = 0;
    int64_t probe_us = 0;
    int64_t tcp_ping_due_us = 0;
    uint64_t fallbacks = 0, returns = 0;
  };
  void watch_udp(Peer& relay, Link& l, int64_t now);
  void connect(Peer& relay, Link& l, int64_t now);
  void watch_connecting(Peer& relay, Link& l, int64_t now);
  void watch_tcp(Peer& relay, Link& l, int64_t now);
  void leave_tcp(Peer& relay, Link& l, const char* why);
  int64_t update_wait(Peer& relay, Link& l, int64_t now);
  void close_connection(Link& l);

  struct Transport;
  Node& node_;
  const Clock& clock_;
  RandomSource& random_;
  RelayTcpClientSettings settings_;
  std::unique_ptr<Transport> transport_;
  std::map<uint64_t, Link> links_;  // by relay serial
  uint64_t fallbacks_ = 0, returns_ = 0;
};

}  // namespace zeq
