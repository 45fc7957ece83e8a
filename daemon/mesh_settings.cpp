#include "daemon/mesh_settings.hpp"

namespace zeq {

PeerSettings peer_settings(const PeerConfig& p) {
  PeerSettings s;
  s.name = p.name;
  s.zid = p.zid;
  s.public_key = p.public_key;
  s.endpoint = p.endpoint;
  s.endpoint_host = p.endpoint_host;
  s.endpoint_port = p.endpoint_port;
  s.allowed_ips = p.allowed_ips;
  s.persistent_keepalive_s = p.persistent_keepalive_s;
  s.cover = p.cover;
  s.padding = p.padding;
  s.send_certificate = p.send_certificate;
  s.via = p.via;
  return s;
}

// A relay of `relays:` is a peer without routes that this node keeps a
// session with (relay/relay_client.hpp).
PeerSettings relay_peer_settings(const RelayConfig& r) {
  PeerSettings s;
  s.name = r.name;
  s.zid = r.zid;
  s.public_key = r.public_key;
  s.endpoint = r.endpoint;
  s.endpoint_host = r.endpoint_host;
  s.endpoint_port = r.endpoint_port;
  s.is_relay = true;
  s.via = PeerPath::kDirect;
  return s;
}

NodeSettings node_settings(const Config& c, const ExitOfferSettings& exit_offer) {
  NodeSettings s;
  s.interface_name = c.interface.name;
  s.addresses = c.interface.addresses;
  s.listen_port = c.interface.listen_port;
  s.mtu = c.interface.mtu;
  s.workers = c.interface.workers;
  s.offloads = c.interface.offloads;
  s.fwmark = c.kill_switch.fwmark;
  s.dns_offer = c.dns.offer;
  s.exit_offer = exit_offer;
  s.endpoint_resolvers = c.dns.endpoint_resolvers;  // empty: the daemon adds the system's
  s.cover = c.cover;
  s.padding = c.padding;
  for (const auto& p : c.peers) s.peers.push_back(peer_settings(p));
  for (const auto& r : c.relays) s.peers.push_back(relay_peer_settings(r));
  s.relay_role = c.role == NodeRole::kRelay;
  s.known_peer_idle_z = c.directory.idle_timeout_z;
  return s;
}

}  // namespace zeq
