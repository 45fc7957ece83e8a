// Node: what the relay module asks of the node (node.hpp): the peers, the
// routes through relays of the client side, the relay role's forwarding
// table.
#include "mesh/node_impl.hpp"

namespace zeq {

std::vector<Peer*> Node::peers() const {
  std::vector<Peer*> out;
  out.reserve(impl_->plane.peers.size());
  for (const auto& p : impl_->plane.peers) out.push_back(p.get());
  return out;
}

Peer* Node::peer_by_zid(const std::string& zid) const {
  for (const auto& p : impl_->plane.peers)
    if (p->key.zid == zid) return p.get();
  return nullptr;
}

Peer* Node::peer_by_serial(uint64_t serial) const { return impl_->plane.find_by_serial(serial); }

const std::string& Node::zid() const { return impl_->identity.zid; }

uint64_t Node::add_relay_route(Peer& peer, Peer& relay, uint32_t channel, bool use) {
  return impl_->sessions->add_relay_route(peer, relay, channel, use);
}

void Node::remove_relay_route(Peer& peer, uint64_t route_id) { impl_->sessions->remove_relay_route(peer, route_id); }

bool Node::use_relay_route(Peer& peer, uint64_t route_id) { return impl_->sessions->use_route(peer, route_id); }

void Node::handshake_now(Peer& peer) { impl_->sessions->handshake_now(peer); }

void Node::publish_relay_switch(std::shared_ptr<const RelaySwitchTable> table) {
  impl_->plane.publish_relay_switch(std::move(table));
}

}  // namespace zeq
