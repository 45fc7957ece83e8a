// What the NAT-traversal module (relay/nat_traversal.hpp) hears from the
// node: the in-tunnel control messages of its types (0x1A..0x1E,
// protocol/nat_messages.hpp) and a tick. Called on the control thread.
#pragma once

#include "core/bytes.hpp"

namespace zeq {

class Peer;

class NatListener {
 public:
  virtual ~NatListener() = default;
  virtual void nat_control(Peer& peer, ByteSpan plaintext) = 0;
  // SessionManager::TICKS_PER_ZEQOND times per Zeqond, after the relays'.
  virtual void nat_tick() = 0;
};

}  // namespace zeq
