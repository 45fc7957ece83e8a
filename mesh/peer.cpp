#include "mesh/peer.hpp"

namespace zeq {

Peer::Peer(const PeerConfig& c, uint64_t peer_serial) : config(c), serial(peer_serial), key{c.zid, c.public_key} {
  if (c.endpoint) endpoint.store(*c.endpoint);
}

}  // namespace zeq
