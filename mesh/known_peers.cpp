// Peers the mesh directory vouches for (the daemon hands them over once
// their records passed every check of directory/record_store.hpp): each is a
// certified-only peer known in advance. Its certificate's allowed_ips are
// routed at once; the tunnel comes up on demand, when a worker finds a packet
// for it (held meanwhile: mesh/staged_packets.hpp), and goes idle after
// `known_peer_idle_z` Zeqonds without an IP packet either way (keys dropped,
// peer and routes kept). It is forgotten only when the directory drops its
// record (revoked, expired, left). A handshake that goes unanswered moves on
// to the next endpoint its record lists.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "mesh/session_manager.hpp"

namespace zeq {

void SessionManager::learn_peers(const std::vector<KnownPeer>& known) {
  if (known.empty()) return;
  const int64_t now = clock_.mono_us();
  const uint64_t now_z = clock_.zeqond();
  // One pass over the peers for the whole batch: a 10 000-record directory
  // arriving must not cost a scan per record.
  std::map<std::string, Peer*, std::less<>> by_zid;
  std::set<std::string, std::less<>> names;
  for (const auto& p : plane_.peers) {
    by_zid.emplace(p->key.zid, p.get());
    if (!p->settings.name.empty()) names.insert(p->settings.name);
  }
  bool changed = false;
  for (const KnownPeer& k : known) {
    const CertificateBody& body = k.certificate.body;
    if (body.zid == local_.zid) continue;
    auto it = by_zid.find(body.zid);
    Peer* peer = it == by_zid.end() ? nullptr : it->second;
    if (peer && peer->key.public_key != body.x25519_public) {
      if (!peer->certified_only) {
        spdlog::warn("directory: {} has a record with another key than the YAML's; the YAML's peer stays",
                     peer->label());
        continue;
      }
      // The node has a new key and certificate: the old peer goes.
      forget(*peer, "peer_rekeyed");
      by_zid.erase(it);
      peer = nullptr;
    }
    if (peer) {
      peer->from_directory = true;
      // A YAML peer's endpoint is the operator's (a NAT's public address the
      // record cannot know): the record's endpoints serve only one the YAML
      // gives none.
      const bool record_endpoints =
          peer->certified_only || (!peer->settings.endpoint && peer->settings.endpoint_host.empty());
      if (record_endpoints && peer->known_endpoints != k.endpoints) {
        // The peer moved when the endpoint in use was one its record listed
        // and is not any more: packets go to the new place at once, the
        // session's keys stay (the peer still has them). Without a session
        // the next handshake goes where the record says. An endpoint learnt
        // from the peer's own packets (a NAT's mapping) that no record
        // lists is left alone while a session runs.
        const UdpEndpoint ep = peer->endpoint.load();
        auto lists = [&ep](const std::vector<UdpEndpoint>& v) { return std::find(v.begin(), v.end(), ep) != v.end(); };
        const bool moved = lists(peer->known_endpoints) || !peer->current_owned;
        const bool listed = lists(k.endpoints);
        peer->known_endpoints = k.endpoints;
        peer->known_endpoint_next = 0;
        if (!k.endpoints.empty() && moved && !listed && peer->settings.endpoint_host.empty()) {
          peer->endpoint.store(k.endpoints.front());
          peer->known_endpoint_next = 1;
          if (peer->pending_handshake) peer->next_retry_us = now;  // retry there at the next tick
        }
      }
      if (peer->certified_only && peer->settings.is_relay != k.relay) {
        // Its record started or stopped offering to relay.
        peer->settings.is_relay = k.relay;
        peer->settings.via = k.relay ? PeerPath::kDirect : PeerPath::kAuto;
        peer->relays_for_us.store(k.relay, std::memory_order_relaxed);
        changed = true;
      }
      if (peer->certified_only && (!peer->certificate || peer->certificate->encoded != k.certificate.encoded) &&
          trust_.recheck(k.certificate, now_z) == HandshakeReject::kNone) {
        peer->certificate = k.certificate;
        peer->requires_certificate = true;
        changed = true;
      }
      continue;
    }
    if (HandshakeReject r = trust_.recheck(k.certificate, now_z); r != HandshakeReject::kNone) {
      spdlog::debug("directory: {} not learnt: {}", body.zid, to_string(r));
      continue;
    }
    PeerSettings settings;
    settings.name = names.count(body.name) ? std::string() : body.name;
    settings.zid = body.zid;
    settings.public_key = body.x25519_public;
    if (!k.endpoints.empty()) settings.endpoint = k.endpoints.front();
    // A relay is a peer to reach others through, not one to route to.
    settings.is_relay = k.relay;
    if (k.relay) settings.via = PeerPath::kDirect;
    Peer& added = plane_.add_peer(settings);
    added.certified_only = true;
    added.from_directory = true;
    added.admitted_us = now;
    added.certificate = k.certificate;
    added.requires_certificate = true;
    added.known_endpoints = k.endpoints;
    added.known_endpoint_next = 1;
    added.apply_traffic_shape(shape_cover_, shape_padding_);
    by_zid.emplace(body.zid, &added);
    if (!settings.name.empty()) names.insert(settings.name);
    changed = true;
  }
  if (!changed) return;
  plane_.publish_table();
  if (routes_changed_) routes_changed_();
}

// One pass and one table for the batch: an emptied etcd or a CA's batch of
// certificates expiring together may drop thousands of peers at once.
void SessionManager::unlearn_peers(const std::vector<std::string>& zids) {
  if (zids.empty()) return;
  const std::set<std::string, std::less<>> gone(zids.begin(), zids.end());
  std::vector<Peer*> forgotten;
  for (const auto& p : plane_.peers) {
    if (!p->from_directory || !gone.count(p->key.zid)) continue;
    if (p->certified_only) {
      forgotten.push_back(p.get());
    } else {
      p->from_directory = false;
      p->known_endpoints.clear();
    }
  }
  if (forgotten.empty()) return;
  for (Peer* peer : forgotten) {
    spdlog::info("peer {}: its directory record is gone; forgotten", peer->label());
    drop_keys(*peer);
    sync_tunnel_state(*peer, "peer_left_directory");
    peer->certificate.reset();
  }
  plane_.remove_peers(forgotten);
  if (routes_changed_) routes_changed_();
}

void SessionManager::try_next_known_endpoint(Peer& peer) {
  if (peer.known_endpoints.size() < 2) return;
  const size_t i = peer.known_endpoint_next % peer.known_endpoints.size();
  peer.known_endpoint_next = i + 1;
  spdlog::debug("peer {}: handshake unanswered; trying {} (its directory record's endpoint {} of {})", peer.label(),
                peer.known_endpoints[i].to_string(), i + 1, peer.known_endpoints.size());
  peer.endpoint.store(peer.known_endpoints[i]);
}

// Only a peer known from the directory alone goes idle (a YAML peer is the
// operator's, and a node's link to the directory), and only while it sends
// nothing at all (IP packets, gossip, keepalives, cover): a node gossips with
// its YAML peers and with whoever gossips with it, so the end that holds the
// peer in its YAML keeps the link, and the other end hears it and keeps it
// too (with etcd, where no gossip runs, a persistent_keepalive on the YAML
// side does the same). Otherwise both ends watch the same thing and let the
// tunnel go at about the same time; a packet after that starts a new one.
void SessionManager::idle_known_peers(int64_t now) {
  if (known_idle_z_ == 0) return;
  const int64_t quiet = zeqonds_to_us(known_idle_z_);
  for (auto& p : plane_.peers) {
    // Relays carry no IP packets of their own; their sessions are kept warm
    // by relay/relay_client.cpp for a failover.
    if (!p->from_directory || !p->certified_only || !p->current_owned || p->pending_handshake || p->settings.is_relay)
      continue;
    const int64_t last = std::max({p->up_since_us, p->last_rx_us.load(std::memory_order_relaxed),
                                   p->last_tx_data_us.load(std::memory_order_relaxed)});
    if (now - last <= quiet) continue;
    ++p->idle_teardowns;
    ++idle_teardowns_;
    spdlog::info("peer {}: no traffic for {} Zeqonds; tunnel idle until the next packet", p->label(), known_idle_z_);
    drop_keys(*p);
    p->gave_up = false;
    sync_tunnel_state(*p, "idle");
  }
}

}  // namespace zeq
