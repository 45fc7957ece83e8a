// The protocol timers of PROTOCOL.md section 6, evaluated TICKS_PER_ZEQOND
// times per Zeqond on the control thread, one function per rule (as
// wireguard-go's timers.go): handshake retry and give-up, key expiry, rekey,
// re-handshaking when sent data goes unanswered (how a restarted peer is
// found again), and passive and persistent keepalives.
#include <spdlog/spdlog.h>

#include "mesh/session_manager.hpp"

namespace zeq {

void SessionManager::tick() {
  int64_t now = clock_.mono_us();
  for (auto& p : plane_.peers) tick_peer(*p, now);
  expire_certificates(clock_.zeqond());
  plane_.quiescence.collect();
}

bool SessionManager::any_tunnel_dropped() const {
  for (const auto& p : plane_.peers)
    if (p->gave_up && !p->admin_down && !p->settings.allowed_ips.empty()) return true;
  return false;
}

void SessionManager::tick_peer(Peer& peer, int64_t now) {
  if (peer.admin_down) return;  // no keys, no handshakes until `zeqvpnctl up`
  retry_or_give_up_handshake(peer, now);
  expire_keys(peer, now);
  rekey_when_due(peer, now);
  rehandshake_when_unanswered(peer, now);
  keep_session_wanted(peer, now);
  send_keepalive_when_due(peer, now);
}

// A handshake in flight is sent again every HANDSHAKE_RETRY (+ jitter) with
// fresh values, and abandoned after HANDSHAKE_GIVE_UP. An unanswered
// initiation may mean the peer's host name points elsewhere now: the hook
// asks again, and the retry after it goes to the answer.
void SessionManager::retry_or_give_up_handshake(Peer& peer, int64_t now) {
  if (!peer.pending_handshake || now < peer.next_retry_us) return;
  if (now - peer.handshake_started_us >= zeqonds_to_us(HANDSHAKE_GIVE_UP_Z)) {
    give_up(peer);
  } else {
    try_next_known_endpoint(peer);
    ++peer.unanswered_initiations;  // relay/relay_client.cpp counts these
    if (unanswered_) unanswered_(peer);
    initiate(peer, now);
  }
}

// Keys past REJECT_AFTER are never used again; a confirmed `next` takes the
// place of the current key.
void SessionManager::expire_keys(Peer& peer, int64_t now) {
  if (peer.previous && peer.previous->expired(now)) retire(peer, peer.previous);
  if (peer.next && peer.next->expired(now)) retire(peer, peer.next);
  if (peer.current_owned && peer.current_owned->expired(now)) {
    retire(peer, peer.current_owned);
    spdlog::info("peer {}: session key expired", peer.label());
  }
  catch_up_confirmed(peer);
  sync_tunnel_state(peer, "key_expired");
}

// The initiator of the current key rekeys after REKEY_AFTER (or when its
// counter runs out); should it fail to, the responder takes over one retry
// period later.
void SessionManager::rekey_when_due(Peer& peer, int64_t now) {
  Keypair* kp = peer.current_owned.get();
  if (!kp || peer.pending_handshake || peer.gave_up) return;
  int64_t due = zeqonds_to_us(REKEY_AFTER_Z) + (kp->initiator ? 0 : zeqonds_to_us(HANDSHAKE_RETRY_Z));
  if (now - kp->created_us >= due || kp->exhausted()) initiate(peer, now);
}

// Sent data that drew no answer for KEEPALIVE + HANDSHAKE_RETRY: the peer may
// have restarted and lost its keys; handshake again.
void SessionManager::rehandshake_when_unanswered(Peer& peer, int64_t now) {
  int64_t unanswered = peer.first_unanswered_us.load(std::memory_order_relaxed);
  if (!unanswered || peer.pending_handshake) return;
  if (now - unanswered < zeqonds_to_us(KEEPALIVE_Z + HANDSHAKE_RETRY_Z)) return;
  peer.first_unanswered_us.store(0, std::memory_order_relaxed);
  peer.gave_up = false;
  initiate(peer, now);
}

// Persistent keepalive also means "keep a session up": without one, start a
// handshake (unless one is in flight or was given up).
void SessionManager::keep_session_wanted(Peer& peer, int64_t now) {
  if (peer.current_owned || peer.settings.persistent_keepalive_s <= 0) return;
  if (!peer.pending_handshake && !peer.gave_up) initiate(peer, now);
}

// Passive keepalive: data arrived and we stayed silent for KEEPALIVE.
// Persistent keepalive: nothing sent for the configured seconds.
void SessionManager::send_keepalive_when_due(Peer& peer, int64_t now) {
  if (!peer.current_owned) return;
  int64_t last_tx = peer.last_tx_us.load(std::memory_order_relaxed);
  int64_t last_rx_data = peer.last_rx_data_us.load(std::memory_order_relaxed);
  bool passive = last_rx_data > last_tx && now - last_rx_data >= zeqonds_to_us(KEEPALIVE_Z);
  bool persistent = peer.settings.persistent_keepalive_s > 0 &&
                    now - last_tx >= int64_t(peer.settings.persistent_keepalive_s) * 1'000'000;
  if (passive || persistent) send_keepalive(peer, now);
}

}  // namespace zeq
