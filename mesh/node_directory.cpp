// Node: what the daemon's mesh directory asks of the node (node.hpp): peers
// learnt and forgotten, trust from revocation lists that came as records,
// and its control messages sent through the tunnels.
#include "mesh/mesh_trust.hpp"
#include "mesh/node_impl.hpp"

namespace zeq {

void Node::learn_peers(const std::vector<KnownPeer>& peers) { impl_->sessions->learn_peers(peers); }

void Node::unlearn_peers(const std::vector<std::string>& zids) { impl_->sessions->unlearn_peers(zids); }

void Node::set_trust(std::shared_ptr<const TrustSettings> trust) {
  impl_->settings.trust = trust;
  impl_->sessions->apply_trust(std::move(trust));
  impl_->sync_certified_routes();
}

bool Node::send_control(uint64_t serial, ByteSpan plaintext) {
  Peer* peer = impl_->plane.find_by_serial(serial);
  return peer && impl_->sessions->send_plaintext(*peer, impl_->clock.mono_us(), plaintext);
}

bool Node::send_control_direct(uint64_t serial, ByteSpan plaintext, const UdpEndpoint& to) {
  Peer* peer = impl_->plane.find_by_serial(serial);
  return peer && !to.empty() && impl_->sessions->send_plaintext(*peer, impl_->clock.mono_us(), plaintext, &to);
}

}  // namespace zeq
