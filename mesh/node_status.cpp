// Node::status(): what `zeqvpnctl status`, `peers` and `metrics` show, read
// on the control thread from the sessions, the peers and the workers'
// counters. No key material.
#include "mesh/node_impl.hpp"

namespace zeq {

namespace {

const char* to_string(Received r) {
  switch (r) {
    case Received::kKeepalive: return "keepalive";
    case Received::kCover: return "cover";
    case Received::kControl: return "control";
    case Received::kCount: break;
  }
  return "unknown";
}

std::vector<std::string> prefix_texts(const std::vector<IpPrefix>& prefixes) {
  std::vector<std::string> out;
  for (const auto& p : prefixes) out.push_back(p.to_string());
  return out;
}

CertificateStatus certificate_status(const Certificate& cert, uint64_t now_z) {
  const CertificateBody& b = cert.body;
  CertificateStatus c;
  c.name = b.name;
  c.zid = b.zid;
  const Digest32 fp = cert.fingerprint();
  c.fingerprint = to_hex(fp);
  c.issuer = to_hex(b.issuer);
  c.owner = b.owner;
  if (b.roles & CERT_ROLE_NODE) c.roles.push_back("node");
  if (b.roles & CERT_ROLE_RELAY) c.roles.push_back("relay");
  c.groups = b.groups;
  c.addresses = prefix_texts(b.addresses);
  c.allowed_ips = prefix_texts(b.allowed_ips);
  c.not_before_z = b.not_before_z;
  c.not_after_z = b.not_after_z;
  c.expires_in_s = int64_t((double(b.not_after_z) - double(now_z)) * TAU_ZQ);
  return c;
}

const char* state_of(const Peer& p) {
  if (p.admin_down) return "admin_down";
  if (p.current_owned) return "up";
  return p.pending_handshake ? "connecting" : "down";
}

PeerStatus peer_status(const Peer& p, int64_t now) {
  PeerStatus ps;
  ps.name = p.settings.name;
  ps.zid = p.key.zid;
  ps.public_key = encode_key(p.key.public_key);
  ps.state = state_of(p);
  UdpEndpoint ep = p.endpoint.load();
  if (!ep.empty()) ps.endpoint = ep.to_string();
  if (!p.settings.endpoint_host.empty())
    ps.endpoint_host = p.settings.endpoint_host + ":" + std::to_string(p.settings.endpoint_port);
  for (const auto& prefix : p.effective_allowed_ips()) ps.allowed_ips.push_back(prefix.to_string());
  if (p.last_handshake_us) ps.last_handshake_age_us = now - p.last_handshake_us;
  if (p.up_since_us) ps.up_for_us = now - p.up_since_us;
  ps.rx_bytes = p.rx_bytes.load();
  ps.tx_bytes = p.tx_bytes.load();
  ps.rx_packets = p.rx_packets.load();
  ps.tx_packets = p.tx_packets.load();
  ps.handshakes = p.handshakes;
  ps.rekeys = p.rekeys;
  ps.persistent_keepalive_s = p.settings.persistent_keepalive_s;
  ps.cover_mode = to_string(p.cover_mode);
  ps.padding = to_string(PaddingPolicy(p.padding.load()));
  ps.cover_tx_packets = p.cover_tx_packets;
  ps.cover_tx_bytes = p.cover_tx_bytes;
  ps.cover_rx_packets = p.cover_rx_packets.load();
  ps.cover_rx_bytes = p.cover_rx_bytes.load();
  ps.cover_last_sent_ns = p.cover_last_sent_ns;
  ps.cover_last_due_ns = p.cover_last_due_ns;
  ps.certified_only = p.certified_only;
  ps.is_relay = p.settings.is_relay;
  ps.via = to_string(p.settings.via);
  if (const RelayRoute* r = p.route.load(std::memory_order_relaxed)) {
    // Over TCP when the relay itself is reached so (relay/relay_tcp_client.hpp).
    ps.path = r->relay->relay_over_tcp.load(std::memory_order_relaxed) ? "relayed-tcp" : "relay";
    ps.relay = r->relay->label();
    ps.relay_zid = r->relay->key.zid;
    ps.relay_channel = r->channel;
  }
  ps.relay_routes = p.relay_routes.size();
  if (p.path_rtt_us > 0) ps.path_rtt_us = p.path_rtt_us;
  ps.unanswered_initiations = p.unanswered_initiations;
  ps.from_directory = p.from_directory;
  ps.staged_packets = p.staged.size();
  ps.idle_teardowns = p.idle_teardowns;
  return ps;
}

}  // namespace

NodeStatus Node::status() const {
  const Impl& m = *impl_;
  NodeStatus s;
  const int64_t now = m.clock.mono_us();
  const int64_t unix_now = m.clock.unix_us();
  s.zid = m.identity.zid;
  s.public_key = encode_key(m.identity.keypair.public_key);
  s.interface = m.settings.interface_name;
  s.listen_port = m.settings.listen_port;
  s.mtu = m.settings.mtu;
  s.workers = m.plane.workers;
  s.offloads = m.offloads;
  for (size_t o = 0; o < size_t(Offload::kCount); ++o) {
    uint64_t sum = 0;
    for (const auto& c : m.plane.counters) sum += c.offload[o].load(std::memory_order_relaxed);
    s.offload_counters[to_string(Offload(o))] = sum;
  }
  s.uptime_us = now - m.started_us;
  s.zeqond = zeqond_of(unix_now);
  s.phase = zeqond_phase(unix_now);
  s.handshakes_completed = m.sessions->handshakes_completed();
  s.handshakes_answered = m.sessions->handshakes_answered();
  s.handshakes_under_load = m.plane.handshake_guard->under_load(now);
  s.cookies_received = m.sessions->cookies_received();
  for (size_t r = 1; r < size_t(HandshakeReject::kCount); ++r)
    if (uint64_t n = m.sessions->rejects(HandshakeReject(r))) s.handshake_rejects[to_string(HandshakeReject(r))] = n;
  for (size_t d = 0; d < size_t(Drop::kCount); ++d) {
    uint64_t sum = 0;
    for (const auto& c : m.plane.counters) sum += c.drops[d].load(std::memory_order_relaxed);
    s.drops[to_string(Drop(d))] = sum;
  }
  for (size_t r = 0; r < size_t(Received::kCount); ++r) {
    uint64_t sum = 0;
    for (const auto& c : m.plane.counters) sum += c.received[r].load(std::memory_order_relaxed);
    s.received[to_string(Received(r))] = sum;
  }
  for (const auto& p : m.plane.peers) {
    s.peers.push_back(peer_status(*p, now));
    s.peers.back().exit_offer_received = m.exits->received_from(p->key.zid);
    s.peers.back().exit_offer_sent = m.exits->offered_to(p->key.zid);
    if (m.plane.exit_serial == p->serial) s.peers.back().is_exit = true;
    if (p->certificate) s.peers.back().certificate = certificate_status(*p->certificate, s.zeqond);
  }
  const MeshTrust& trust = m.sessions->trust();
  if (const Certificate* own = trust.own()) s.certificate = certificate_status(*own, s.zeqond);
  if (const TrustSettings* t = trust.settings()) {
    for (const auto& ca : t->store.cas()) {
      s.trusted_cas.push_back(to_hex(ca.fingerprint()));
      if (const RevocationList* list = t->store.revocation_list(ca.fingerprint()))
        s.revocation_serials[s.trusted_cas.back()] = list->serial;
    }
  }
  for (size_t r = 1; r < size_t(HandshakeReject::kCount); ++r)
    if (uint64_t n = m.sessions->certificate_cuts(HandshakeReject(r))) s.certificate_cuts[to_string(HandshakeReject(r))] = n;
  return s;
}

}  // namespace zeq
