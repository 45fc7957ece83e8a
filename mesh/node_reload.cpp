// Node::reload: a new peer list, cover, padding and DNS offer applied to the
// running node. Kernel routes change first, so that a refusal from netlink
// (or from the daemon's step in between) leaves everything as it was; then
// the peer set (sessions of peers that stay are kept, see
// SessionManager::apply_peers).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "mesh/node_impl.hpp"
#include "tun/link_config.hpp"

namespace zeq {

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? std::string("none") : s;
}

}  // namespace

std::set<IpPrefix> kernel_routes(const std::vector<PeerSettings>& peers) {
  std::set<IpPrefix> out;
  for (const auto& p : peers)
    for (const auto& prefix : p.allowed_ips)
      if (prefix.length > 0) out.insert(prefix.network());
  return out;
}

std::string Node::ReloadChange::summary() const {
  return "added " + joined(added) + "; removed " + joined(removed) + "; updated " + joined(updated) + "; unchanged " +
         std::to_string(unchanged) + "; routes +" + std::to_string(routes_added) + " -" + std::to_string(routes_removed);
}

Result<Node::ReloadChange> Node::reload(const NodeSettings& next, const std::function<Status()>& between) {
  Impl& m = *impl_;
  auto old_routes = kernel_routes(m.settings.peers);
  auto new_routes = kernel_routes(next.peers);
  std::vector<IpPrefix> add, remove;
  std::set_difference(new_routes.begin(), new_routes.end(), old_routes.begin(), old_routes.end(), std::back_inserter(add));
  std::set_difference(old_routes.begin(), old_routes.end(), new_routes.begin(), new_routes.end(), std::back_inserter(remove));
  if (Status s = change_routes(m.tun.ifindex(), add, remove); !s) {
    (void)change_routes(m.tun.ifindex(), remove, add);  // put back what went through; the error below says why
    return Status::error("reload: " + s.message());
  }
  if (between) {
    if (Status s = between(); !s) {
      if (Status back = change_routes(m.tun.ifindex(), remove, add); !back)
        spdlog::error("reload: putting the routes back: {}", back.message());
      return s;
    }
  }

  auto peers = m.sessions->apply_peers(next.peers);
  m.settings.peers = next.peers;
  // After the peer set: a new revocation list or CA set cuts certified
  // peers that no longer pass, at once; then the routes certificates give.
  m.settings.trust = next.trust;
  m.sessions->apply_trust(next.trust);
  m.sync_certified_routes();
  m.settings.cover = next.cover;
  m.settings.padding = next.padding;
  m.settings.known_peer_idle_z = next.known_peer_idle_z;
  m.sessions->set_traffic_shape(next.cover, next.padding);
  m.sessions->set_known_peer_idle(next.known_peer_idle_z);
  m.settings.dns_offer = next.dns_offer;
  m.settings.exit_offer = next.exit_offer;
  m.dns->set_resolver(next.dns_offer);
  m.exits->set_offer(next.exit_offer, m.plane.peers, m.clock.mono_us());
  for (const auto& p : m.plane.peers) p->apply_traffic_shape(next.cover, next.padding);
  return ReloadChange{std::move(peers.added), std::move(peers.removed), std::move(peers.updated), peers.unchanged,
                      add.size(), remove.size()};
}

}  // namespace zeq
