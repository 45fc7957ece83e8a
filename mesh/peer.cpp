#include "mesh/peer.hpp"

namespace zeq {

Peer::Peer(const PeerConfig& c, int peer_id) : config(c), id(peer_id), key{c.zid, c.public_key} {
  if (c.endpoint) endpoint.store(*c.endpoint);
}

}  // namespace zeq
