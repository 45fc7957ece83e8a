// The operator's actions on peers (zeqvpnctl up, down, rekey, cover), by a
// peer's name or ZID, on the control thread.
#include <spdlog/spdlog.h>

#include "mesh/node_impl.hpp"
#include "tun/link_config.hpp"

namespace zeq {

Result<Peer*> Node::Impl::find_peer(const std::string& name) const {
  if (Peer* p = plane.find(name)) return p;
  std::string known;
  for (const auto& p : plane.peers) known += (known.empty() ? "" : ", ") + (p->settings.name.empty() ? p->key.zid : p->settings.name);
  return Status::error("unknown peer '" + name + "'; configured peers: " + (known.empty() ? "(none)" : known));
}

Status Node::check_peer(const std::string& name) const {
  auto p = impl_->find_peer(name);
  return p ? Status::ok() : p.status();
}

Status Node::peer_down(const std::string& name) {
  auto p = impl_->find_peer(name);
  if (!p) return p.status();
  impl_->sessions->set_admin_down(**p, true);
  return Status::ok();
}

Status Node::peer_up(const std::string& name) {
  auto p = impl_->find_peer(name);
  if (!p) return p.status();
  impl_->sessions->set_admin_down(**p, false);
  return Status::ok();
}

Status Node::rekey(const std::string& name) {
  auto p = impl_->find_peer(name);
  if (!p) return p.status();
  if ((*p)->admin_down) return Status::error("peer '" + name + "' is down by operator; `zeqvpnctl up " + name + "` first");
  if (!impl_->sessions->rekey_now(**p))
    return Status::error("peer '" + name + "' has no known endpoint yet; it rekeys when it next calls in");
  return Status::ok();
}

Status Node::use_exit(const std::string& peer, bool ipv4, bool ipv6) {
  DataPlane& plane = impl_->plane;
  if (peer.empty()) {
    if (plane.exit_serial == 0) return Status::ok();
    plane.exit_serial = 0;
    plane.publish_table();
    return Status::ok();
  }
  auto p = impl_->find_peer(peer);
  if (!p) return p.status();
  for (const auto& other : plane.peers) {
    if (other.get() == *p) continue;
    for (const auto& prefix : other->settings.allowed_ips)
      if (prefix.length == 0)
        return Status::error("peer " + other->label() + " holds " + prefix.to_string() +
                             " in its allowed_ips, so it is the exit; remove that from its allowed_ips to use another");
  }
  if (plane.exit_serial == (*p)->serial && plane.exit_ipv4 == ipv4 && plane.exit_ipv6 == ipv6) return Status::ok();
  plane.exit_serial = (*p)->serial;
  plane.exit_ipv4 = ipv4;
  plane.exit_ipv6 = ipv6;
  plane.publish_table();
  return Status::ok();
}

Status Node::cover(const std::string& peer, bool on) {
  std::vector<Peer*> targets;
  if (peer.empty()) {
    for (const auto& p : impl_->plane.peers) targets.push_back(p.get());
  } else {
    auto p = impl_->find_peer(peer);
    if (!p) return p.status();
    targets.push_back(*p);
  }
  for (Peer* p : targets) {
    p->cover_override = on;
    p->apply_traffic_shape(impl_->settings.cover, impl_->settings.padding);
    spdlog::info("peer {}: cover traffic {} by operator", p->label(), to_string(p->cover_mode));
  }
  return Status::ok();
}

void Node::Impl::certified_peer_changed(const Peer& peer, bool added) {
  const auto yaml = kernel_routes(settings.peers);
  std::vector<IpPrefix> add, remove;
  for (const auto& prefix : peer.effective_allowed_ips()) {
    const IpPrefix net = prefix.network();
    if (net.length == 0 || yaml.count(net)) continue;
    bool on_link = false;
    for (const auto& own : settings.addresses)
      if (own.network().length <= net.length && own.network().contains(net.family, net.addr.data())) on_link = true;
    if (on_link) continue;
    int& users = certified_routes[net];
    if (added && users++ == 0) add.push_back(net);
    if (!added && users > 0 && --users == 0) remove.push_back(net);
    if (users == 0) certified_routes.erase(net);
  }
  if (add.empty() && remove.empty()) return;
  if (Status s = change_routes(tun.ifindex(), add, remove); !s)
    spdlog::warn("peer {}: routes for its certificate's allowed_ips: {}", peer.label(), s.message());
}

}  // namespace zeq
