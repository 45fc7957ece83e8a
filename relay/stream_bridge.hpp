// Relay over TCP: one TCP connection bridged to a loopback UDP socket, the
// piece both sides share (relay/relay_tcp_listener.hpp on a relay,
// relay/relay_tcp_client.hpp on a client). Frames read from the stream
// (protocol/stream_framing.hpp) are sent, one datagram each, from the
// bridge's own loopback socket to the node's UDP port; datagrams the node
// sends to that loopback socket are framed onto the stream. The node sees
// the connection as one UDP peer address (the bridge's loopback address and
// port), so the data plane, its checks and its roaming are the same as
// over UDP.
//
// Runs on one transport thread's io_context: not thread-safe; the owner
// reads the counters from elsewhere. Boost.Asio stays in the .cpp file:
// the owner hands over plain file descriptors.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "relay/tcp_transport_counters.hpp"

namespace boost::asio {
class io_context;
}

namespace zeq {

class StreamBridge {
 public:
  // A datagram held for the stream beyond this many bytes (framed) is
  // dropped and counted: a slow or stalled connection costs bounded memory
  // (twice this: one buffer being written, one filling), and the tunnel's
  // own congestion control sees loss, as it would over UDP.
  static constexpr size_t WRITE_QUEUE_BYTES = 256 * 1024;
  static constexpr size_t READ_BYTES = 64 * 1024;

  using Closed = std::function<void(const char* why)>;

  // Takes both descriptors: `tcp_fd` a connected TCP socket, `udp_fd` a UDP
  // socket from open_loopback_socket. Starts reading both at once.
  static std::shared_ptr<StreamBridge> start(boost::asio::io_context& io, int tcp_fd, int udp_fd,
                                             TcpTransportCounters& counters, int64_t now_us, Closed on_closed);
  ~StreamBridge();
  // Closes both sockets (once); on_closed runs with `why`.
  void close(const char* why);
  bool closed() const;

  // For the owner's timeouts (transport thread).
  int64_t opened_us() const;
  int64_t last_frame_us() const;      // 0: none yet
  int64_t partial_since_us() const;   // 0: no partial frame
  uint16_t loopback_port() const;

  struct Impl;

 private:
  explicit StreamBridge(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

// Monotonic microseconds (the transport thread's clock for timeouts).
int64_t stream_now_us();

// A non-blocking UDP socket bound to the IPv4 loopback address `local_v4`
// (host order; port chosen by the kernel) and connected to 127.0.0.1:
// `node_port`, the node's own (dual-stack) UDP socket. -1 and `error` set
// on failure.
int open_loopback_socket(uint16_t node_port, uint32_t local_v4, std::string& error);

// The loopback address (host order) a relay gives the connections from a
// client address (4 or 16 bytes): one of 127.0.0.0/8 by a hash of the
// address (an IPv6 one by its /64), so that what the node keys by source
// address (the handshake guard's buckets under load) tells clients apart
// as it would over UDP rather than lumping them all on 127.0.0.1.
uint32_t loopback_for(const uint8_t* address, size_t len);

}  // namespace zeq
