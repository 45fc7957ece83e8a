// Relay over TCP (docs/protocol.md, "Relay over TCP"): what the stream
// bridges of either side count. Written by the transport thread, read by
// the control thread for status and metrics.
#pragma once

#include <atomic>
#include <cstdint>

namespace zeq {

struct TcpTransportCounters {
  std::atomic<uint64_t> connections{0};        // open now
  std::atomic<uint64_t> accepted{0};           // relay: accepted; client: connected
  std::atomic<uint64_t> refused{0};            // relay: over a connection limit, closed at once
  std::atomic<uint64_t> connect_failures{0};   // client: connects that failed or timed out
  std::atomic<uint64_t> frames_in{0}, frames_out{0};   // datagrams off / onto streams
  std::atomic<uint64_t> bytes_in{0}, bytes_out{0};     // their bytes (headers not counted)
  std::atomic<uint64_t> bad_frames{0};         // a length of 0 or above the maximum: closed
  std::atomic<uint64_t> timeouts{0};           // idle, or a frame not finished in time: closed
  std::atomic<uint64_t> queue_full_drops{0};   // datagrams dropped: the connection's write queue was full
  std::atomic<uint64_t> loopback_drops{0};     // datagrams the loopback socket would not take
};

}  // namespace zeq
