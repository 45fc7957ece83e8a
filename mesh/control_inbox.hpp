// How a data-plane worker reaches the control thread without knowing about
// its event loop: hand over a handshake message, or ask it to look at a peer.
#pragma once

#include <cstdint>

#include "core/bytes.hpp"
#include "core/net_address.hpp"

namespace zeq {

class ControlInbox {
 public:
  virtual ~ControlInbox() = default;
  // producer: the calling thread's own index (a worker's id; the control
  // thread's is DataPlane::control_slot()). Each index must be used by one
  // thread at a time: the inbox may keep a lock-free queue per producer.
  //
  // Copies the message; false when the queue is full and it was dropped.
  // via_route: the id of the relayed route it arrived by (relay_route.hpp),
  // 0 when it came straight from `from`.
  virtual bool deliver_handshake(int producer, ByteSpan message, const UdpEndpoint& from, uint64_t via_route = 0) = 0;
  // The peer's wants_attention flag went from false to true.
  virtual void peer_needs_attention(uint64_t peer_serial) = 0;
  // An authenticated in-tunnel control message (plaintext starting 0x01)
  // from the peer; copied, false when dropped.
  virtual bool deliver_control(int producer, uint64_t peer_serial, ByteSpan plaintext) = 0;
  // Messages handed over and not yet taken: how far behind the control
  // thread is (the handshake guard's sign of load).
  virtual int queued() const = 0;
};

}  // namespace zeq
