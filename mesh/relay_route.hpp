// The client side of a relayed path, as the data plane sees it: a way to a
// peer through a relay on a channel the relay gave this end of the pair
// (protocol/relay_messages.hpp). A peer keeps its routes (Peer::relay_routes,
// control thread); the one packets go out by is published in Peer::route
// (null: straight to the peer's endpoint). The PeerTable maps (relay,
// channel) to the route, so a worker knows by which route a relayed message
// arrived. Routes are immutable but for their byte counters, and freed
// through Quiescence once no table or peer names them.
#pragma once

#include <atomic>
#include <cstdint>

namespace zeq {

class Peer;

struct RelayRoute {
  RelayRoute(uint64_t route_id, Peer* far_end, Peer* via, uint64_t via_serial, uint32_t channel_id)
      : id(route_id), peer(far_end), relay(via), relay_serial(via_serial), channel(channel_id) {}
  const uint64_t id;            // never reused in a run; 0 means "direct"
  Peer* const peer;             // the far end
  Peer* const relay;            // a peer of ours, with a session of its own
  const uint64_t relay_serial;
  const uint32_t channel;       // this end's channel at the relay
  // The carried messages' bytes (the far end's messages, as the relay
  // counts them), for the pair's accounting.
  std::atomic<uint64_t> tx_bytes{0}, rx_bytes{0};
};

// The PeerTable's key of a route: relay serial and channel.
inline uint64_t relay_route_key(uint64_t relay_serial, uint32_t channel) { return (relay_serial << 24) | channel; }

}  // namespace zeq
