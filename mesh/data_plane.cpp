#include "mesh/data_plane.hpp"

#include "protocol/relay_messages.hpp"

#include <set>

#include <algorithm>

namespace zeq {

DataPlane::DataPlane(int worker_count, int tun_mtu)
    : workers(worker_count), mtu(tun_mtu), relayed_mtu(relayed_path_mtu(size_t(tun_mtu))), quiescence(worker_count), counters(size_t(worker_count) + 1) {
  publish_table();
}

DataPlane::~DataPlane() { table_.store(nullptr); }

Peer& DataPlane::add_peer(const PeerSettings& settings) {
  peers.push_back(std::make_unique<Peer>(settings, next_serial_++, staged_budget));
  Peer& peer = *peers.back();
  by_serial_.emplace(peer.serial, &peer);
  by_zid_.try_emplace(peer.key.zid, &peer);
  return peer;
}

// Routes through a relay that is going away go with it, whoever they lead
// to: no route may name a freed relay (relay/relay_client.cpp ends their
// pairs when it sees them gone).
void DataPlane::drop_routes_via(const std::set<const Peer*>& relays) {
  for (const auto& p : peers) {
    for (auto it = p->relay_routes.begin(); it != p->relay_routes.end();) {
      if (!relays.count((*it)->relay)) {
        ++it;
        continue;
      }
      if (p->route.load(std::memory_order_relaxed) == it->get()) p->route.store(nullptr, std::memory_order_release);
      quiescence.retire(std::move(*it));
      it = p->relay_routes.erase(it);
    }
  }
}

void DataPlane::remove_peer(Peer& peer) {
  auto it = std::find_if(peers.begin(), peers.end(), [&](const auto& p) { return p.get() == &peer; });
  if (it == peers.end()) return;
  unindex(peer);
  std::shared_ptr<Peer> retired(std::move(*it));
  peers.erase(it);
  drop_routes_via({retired.get()});
  publish_table();  // the new table no longer names it
  quiescence.retire(std::move(retired));
}

void DataPlane::remove_peers(const std::vector<Peer*>& gone) {
  const std::set<const Peer*> set(gone.begin(), gone.end());
  std::vector<std::shared_ptr<Peer>> retired;
  for (auto it = peers.begin(); it != peers.end();) {
    if (set.count(it->get())) {
      unindex(**it);
      retired.emplace_back(std::move(*it));
      it = peers.erase(it);
    } else {
      ++it;
    }
  }
  drop_routes_via(set);
  publish_table();  // the new table no longer names them
  for (auto& p : retired) quiescence.retire(std::move(p));
}

void DataPlane::publish_table() {
  auto next = std::make_shared<PeerTable>();
  next->peers.reserve(peers.size());
  const auto yaml = yaml_prefixes();
  for (const auto& p : peers) {
    int slot = int(next->peers.size());
    next->peers.push_back(p.get());
    for (const auto& r : p->relay_routes) next->relay_routes[relay_route_key(r->relay_serial, r->channel)] = r.get();
    for (const auto& prefix : routable_prefixes(*p, yaml)) next->routes.insert(prefix, slot);
    if (p->serial == exit_serial && exit_serial != 0) {
      if (exit_ipv4) next->routes.insert(IpPrefix{4, {}, 0}, slot);
      if (exit_ipv6) next->routes.insert(IpPrefix{6, {}, 0}, slot);
    }
  }
  table_.store(next.get(), std::memory_order_release);
  quiescence.retire(std::exchange(table_owned_, std::move(next)));
}

std::vector<IpPrefix> DataPlane::yaml_prefixes() const {
  std::vector<IpPrefix> out;
  for (const auto& p : peers)
    if (!p->certified_only)
      for (const auto& prefix : p->effective_allowed_ips()) out.push_back(prefix);
  return out;
}

std::vector<IpPrefix> DataPlane::routable_prefixes(const Peer& peer, const std::vector<IpPrefix>& yaml) const {
  if (peer.settings.is_relay) return {};  // reached through, never routed to
  std::vector<IpPrefix> out = peer.effective_allowed_ips();
  if (!peer.certified_only) return out;
  std::erase_if(out, [&](const IpPrefix& x) {
    if (x.length == 0) return true;
    for (const auto& y : yaml)
      if (y.family == x.family && y.length <= x.length && y.contains(x.family, x.addr.data())) return true;
    return false;
  });
  return out;
}

void DataPlane::unindex(const Peer& peer) {
  by_serial_.erase(peer.serial);
  if (auto it = by_zid_.find(peer.key.zid); it != by_zid_.end() && it->second == &peer) {
    by_zid_.erase(it);
    // Another peer of the same ZID (should there be one) takes its place.
    for (const auto& p : peers)
      if (p.get() != &peer && p->key.zid == peer.key.zid) {
        by_zid_.emplace(peer.key.zid, p.get());
        break;
      }
  }
}

Peer* DataPlane::find_by_serial(uint64_t serial) const {
  auto it = by_serial_.find(serial);
  return it == by_serial_.end() ? nullptr : it->second;
}

Peer* DataPlane::find(const std::string& name_or_zid) const {
  if (auto it = by_zid_.find(name_or_zid); it != by_zid_.end()) return it->second;
  for (const auto& p : peers)
    if (p->key.zid == name_or_zid || (!p->settings.name.empty() && p->settings.name == name_or_zid)) return p.get();
  return nullptr;
}

}  // namespace zeq
