// What the relay module (relay/relay_service.hpp on a relay,
// relay/relay_client.hpp on a node) hears from the node: tunnels coming up
// and going down, the relay control messages (protocol/relay_messages.hpp,
// control types 0x10..0x19) and a tick. Called on the control thread.
#pragma once

#include "core/bytes.hpp"
#include "mesh/tunnel_events.hpp"

namespace zeq {

class Peer;

class RelayListener : public TunnelEvents {
 public:
  virtual void relay_control(Peer& peer, ByteSpan plaintext) = 0;
  // SessionManager::TICKS_PER_ZEQOND times per Zeqond, after the sessions'
  // own timers.
  virtual void relay_tick() = 0;
  // A relay of ours forwards on a channel we hold no route for
  // (Peer::unknown_channel).
  virtual void unknown_channel(Peer& relay, uint32_t channel) = 0;
};

}  // namespace zeq
