// The control thread's inbox for the data-plane workers (ControlInbox).
// Handshake and in-tunnel control messages are copied into a bounded queue
// of work posted to the control thread's event loop, so a flood costs
// counted drops, never memory; attention requests are posted as they come
// (at most one per peer is outstanding, see DataPlane::request_attention).
// Boost.Asio stays in the .cpp file.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "mesh/control_inbox.hpp"

namespace boost::asio {
class io_context;
}

namespace zeq {

class ControlQueue final : public ControlInbox {
 public:
  // Messages waiting for the control thread, at most.
  static constexpr int MAX_QUEUED_MESSAGES = 1024;

  // Run on the control thread, with the copied bytes.
  struct Handlers {
    // Handshake messages (mac1 checked, mac2 stripped) and cookie replies.
    std::function<void(ByteSpan message, const UdpEndpoint& from, uint64_t via_route)> handshake;
    std::function<void(uint64_t peer_serial, ByteSpan plaintext)> control;
    std::function<void(uint64_t peer_serial)> attention;
  };
  ControlQueue(boost::asio::io_context& io, Handlers handlers);

  bool deliver_handshake(ByteSpan message, const UdpEndpoint& from, uint64_t via_route = 0) override;
  void peer_needs_attention(uint64_t peer_serial) override;
  bool deliver_control(uint64_t peer_serial, ByteSpan plaintext) override;
  int queued() const override { return queued_.load(std::memory_order_relaxed); }

 private:
  // Reserves a place in the queue; false when it is full.
  bool reserve();
  boost::asio::io_context& io_;
  Handlers handlers_;
  std::atomic<int> queued_{0};
};

}  // namespace zeq
