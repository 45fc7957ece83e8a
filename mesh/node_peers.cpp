// The operator's actions on peers (zeqvpnctl up, down, rekey, cover), by a
// peer's name or ZID, on the control thread.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

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

void Node::Impl::sync_certified_routes() {
  const auto yaml = kernel_routes(settings.peers);
  const auto yaml_prefixes = plane.yaml_prefixes();
  std::set<IpPrefix> wanted;
  for (const auto& p : plane.peers) {
    if (!p->certified_only) continue;
    for (const auto& prefix : plane.routable_prefixes(*p, yaml_prefixes)) {
      const IpPrefix net = prefix.network();
      bool on_link = false;
      for (const auto& own : settings.addresses)
        if (own.network().length <= net.length && own.network().contains(net.family, net.addr.data())) on_link = true;
      if (!on_link && !yaml.count(net)) wanted.insert(net);
    }
  }
  std::vector<IpPrefix> add, remove;
  std::set_difference(wanted.begin(), wanted.end(), certified_routes.begin(), certified_routes.end(), std::back_inserter(add));
  for (const auto& r : certified_routes)
    if (!wanted.count(r) && !yaml.count(r)) remove.push_back(r);  // a route the YAML now holds stays, as the YAML's
  certified_routes = std::move(wanted);
  if (add.empty() && remove.empty()) return;
  if (Status s = change_routes(tun.ifindex(), add, remove); !s)
    spdlog::warn("routes for certificates' allowed_ips: {}", s.message());
}

}  // namespace zeq
