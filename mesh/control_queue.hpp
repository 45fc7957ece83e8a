// The control thread's inbox for the data-plane workers (ControlInbox).
// Handshake and in-tunnel control messages are copied into a fixed ring of
// preallocated slots per producer (each worker, and the control thread
// itself): one writer and one reader per ring, so handing a message over
// takes no lock and allocates nothing. One eventfd wakes the control
// thread, written only when it has gone to sleep (a flag it sets before
// its last look at the rings), so a flood costs one wake-up per batch the
// control thread drains, not one per message. A flood costs counted drops,
// never memory: all rings together hold at most MAX_QUEUED_MESSAGES.
// Attention requests are posted as they come (at most one per peer is
// outstanding, see DataPlane::request_attention).
// Boost.Asio stays in the .cpp file.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/result.hpp"
#include "mesh/control_inbox.hpp"

namespace boost::asio {
class io_context;
}

namespace zeq {

class ControlQueue final : public ControlInbox {
 public:
  // Messages waiting for the control thread, at most, over all producers.
  static constexpr int MAX_QUEUED_MESSAGES = 1024;
  // Slots of one producer's ring. One peer's messages reach one worker
  // (SO_REUSEPORT hashes by source), so a flood from one source fills one
  // ring: four times the handshake guard's LOAD_QUEUE_DEPTH, so the guard
  // turns to cookie replies long before the ring is full, and half the
  // global bound for in-tunnel control bursts (gossip). Slots are 2 KB (the
  // largest message is about 1.3 KB), so a ring is 1 MB of address space,
  // resident only where messages are in flight: handled slots go back to
  // the kernel a page at a time.
  static constexpr int RING_SLOTS = 512;
  // Control thread: messages handled per ring per wake-up before its other
  // work (timers, the control socket) gets a turn.
  static constexpr int DRAIN_PER_WAKE = 64;

  // Run on the control thread, with the copied bytes.
  struct Handlers {
    // Handshake messages (mac1 checked, mac2 stripped) and cookie replies.
    std::function<void(ByteSpan message, const UdpEndpoint& from, uint64_t via_route)> handshake;
    std::function<void(uint64_t peer_serial, ByteSpan plaintext)> control;
    std::function<void(uint64_t peer_serial)> attention;
  };
  // producers: the number of threads that deliver, each with its own index
  // in [0, producers): the workers, then the control thread
  // (DataPlane::control_slot()). Fails when the eventfd cannot be made.
  static Result<std::unique_ptr<ControlQueue>> create(boost::asio::io_context& io, int producers, Handlers handlers);
  ~ControlQueue() override;

  bool deliver_handshake(int producer, ByteSpan message, const UdpEndpoint& from, uint64_t via_route = 0) override;
  void peer_needs_attention(uint64_t peer_serial) override;
  bool deliver_control(int producer, uint64_t peer_serial, ByteSpan plaintext) override;
  int queued() const override { return queued_.load(std::memory_order_relaxed); }
  // Bytes of the rings resident in memory (mincore), for tests.
  size_t resident_bytes() const;

 private:
  struct Slot;
  struct Ring;
  struct Waker;  // the eventfd and its Asio descriptor
  ControlQueue(boost::asio::io_context& io, int producers, Handlers handlers, int event_fd);

  // Producer side: a free slot of the producer's ring, with a place in the
  // global bound reserved (null: full, or an unknown producer); publish()
  // hands it to the control thread.
  Slot* claim(int producer);
  void publish(int producer);
  // Control thread: waits for the eventfd, then drains.
  void arm();
  void drain();

  boost::asio::io_context& io_;
  Handlers handlers_;
  std::vector<std::unique_ptr<Ring>> rings_;
  std::unique_ptr<Waker> waker_;
  const int event_fd_;
  std::atomic<int> queued_{0};
  // Set by the control thread before its last look at the rings when it
  // goes to wait; the producer that takes it back writes the eventfd.
  std::atomic<bool> sleeping_{true};
};

}  // namespace zeq
