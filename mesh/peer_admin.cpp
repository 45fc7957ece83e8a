// Operator actions on peers (zeqvpnctl up/down/rekey) and applying a new peer
// list on reload, and an endpoint found by host name, on the control thread.
// A reload never touches the keys of a peer that stays: its tunnel keeps
// carrying packets while the rest changes.
#include <spdlog/spdlog.h>

#include "mesh/session_manager.hpp"

namespace zeq {

void SessionManager::set_admin_down(Peer& peer, bool down) {
  if (down == peer.admin_down) return;
  peer.admin_down = down;
  peer.gave_up = false;
  if (down) {
    drop_keys(peer);
    sync_tunnel_state(peer, "admin_down");
    spdlog::info("peer {}: down by operator; handshakes refused until `zeqvpnctl up`", peer.label());
  } else {
    spdlog::info("peer {}: up by operator", peer.label());
    initiate(peer, clock_.mono_us());
  }
}

bool SessionManager::rekey_now(Peer& peer) {
  if (peer.admin_down || peer.endpoint.load().empty()) return false;
  peer.next_retry_us = 0;  // initiate() replaces a handshake in flight
  peer.gave_up = false;
  initiate(peer, clock_.mono_us());
  return peer.pending_handshake != nullptr;
}

void SessionManager::endpoint_found(Peer& peer) {
  if (peer.admin_down || peer.current_owned || peer.pending_handshake) return;
  peer.gave_up = false;
  initiate(peer, clock_.mono_us());
}

SessionManager::PeerSetChange SessionManager::apply_peers(const std::vector<PeerSettings>& wanted) {
  PeerSetChange change;
  std::vector<bool> matched(wanted.size(), false);
  std::vector<Peer*> gone, call;  // call: peers to handshake with once the table is in
  for (auto& p : plane_.peers) {
    size_t i = 0;
    while (i < wanted.size() && !(wanted[i].zid == p->key.zid && wanted[i].public_key == p->key.public_key)) ++i;
    if (i == wanted.size()) {
      // Peers admitted by certificate are not the YAML's to remove; the
      // trust that comes with the reload decides on them (apply_trust).
      if (!p->certified_only) gone.push_back(p.get());
      continue;
    }
    matched[i] = true;
    if (p->certified_only) {
      // Now named in the YAML too: its entry rules, narrowed by the certificate.
      p->certified_only = false;
      p->settings = wanted[i];
      p->relays_for_us.store(p->settings.is_relay, std::memory_order_relaxed);
      change.updated.push_back(p->label());
      continue;
    }
    if (wanted[i] == p->settings) {
      ++change.unchanged;
      continue;
    }
    // A new configured endpoint replaces the one in use; no endpoint in the
    // file keeps whatever the peer roamed to.
    if (wanted[i].endpoint && wanted[i].endpoint != p->settings.endpoint) {
      p->endpoint.store(*wanted[i].endpoint);
      if (!p->current_owned) call.push_back(p.get());  // try the new address now
    }
    p->settings = wanted[i];
    p->relays_for_us.store(p->settings.is_relay, std::memory_order_relaxed);
    change.updated.push_back(p->label());
  }
  for (Peer* p : gone) {
    change.removed.push_back(p->label());
    drop_keys(*p);
    sync_tunnel_state(*p, "peer_removed");
    plane_.remove_peer(*p);
  }
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (matched[i]) continue;
    call.push_back(&plane_.add_peer(wanted[i]));
    change.added.push_back(call.back()->label());
  }
  // One new table carries every route change of this reload at once.
  plane_.publish_table();
  int64_t now = clock_.mono_us();
  for (Peer* p : call) {
    p->gave_up = false;
    initiate(*p, now);
  }
  return change;
}

}  // namespace zeq
