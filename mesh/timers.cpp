// The protocol timers of PROTOCOL.md section 6, evaluated a few times per
// Zeqond on the control thread: handshake retry and give-up, rekey, key
// expiry, passive and persistent keepalives, and re-handshaking when sent
// data goes unanswered (how a restarted peer is found again).
#include <spdlog/spdlog.h>

#include "mesh/session_manager.hpp"

namespace zeq {

void SessionManager::tick() {
  int64_t now = clock_.mono_us();
  for (auto& p : plane_.peers) tick_peer(*p, now);
  plane_.quiescence.collect();
}

bool SessionManager::any_tunnel_dropped() const {
  for (const auto& p : plane_.peers)
    if (p->gave_up && !p->admin_down && !p->config.allowed_ips.empty()) return true;
  return false;
}

void SessionManager::tick_peer(Peer& peer, int64_t now) {
  if (peer.admin_down) return;  // no keys, no handshakes until `zeqvpnctl up`

  // Handshake in flight: retry every HANDSHAKE_RETRY (+ jitter), give up
  // after HANDSHAKE_GIVE_UP.
  if (peer.pending_handshake && now >= peer.next_retry_us) {
    if (now - peer.handshake_started_us >= zeqonds_to_us(HANDSHAKE_GIVE_UP_Z)) {
      give_up(peer);
    } else {
      initiate(peer, now);
    }
  }

  // Keys past REJECT_AFTER are never used again.
  if (peer.previous && peer.previous->expired(now)) retire(peer, peer.previous);
  if (peer.next && peer.next->expired(now)) retire(peer, peer.next);
  if (peer.current_owned && peer.current_owned->expired(now)) {
    retire(peer, peer.current_owned);
    spdlog::info("peer {}: session key expired", peer.label());
  }
  if (peer.next && peer.next->received_any.load(std::memory_order_relaxed)) promote_next(peer);
  sync_tunnel_state(peer, "key_expired");

  Keypair* kp = peer.current_owned.get();
  bool idle = !peer.pending_handshake && !peer.gave_up;
  if (kp && idle) {
    int64_t age = now - kp->created_us;
    // The initiator of the current key rekeys after REKEY_AFTER; should it
    // fail to, the responder takes over one retry period later.
    int64_t due = zeqonds_to_us(REKEY_AFTER_Z) + (kp->initiator ? 0 : zeqonds_to_us(HANDSHAKE_RETRY_Z));
    if (age >= due || kp->exhausted()) initiate(peer, now);
  }

  // Sent data that drew no answer for KEEPALIVE + HANDSHAKE_RETRY: the peer
  // may have restarted and lost its keys; handshake again.
  int64_t unanswered = peer.first_unanswered_us.load(std::memory_order_relaxed);
  if (unanswered && now - unanswered >= zeqonds_to_us(KEEPALIVE_Z + HANDSHAKE_RETRY_Z) && !peer.pending_handshake) {
    peer.first_unanswered_us.store(0, std::memory_order_relaxed);
    peer.gave_up = false;
    initiate(peer, now);
  }

  if (!kp) {
    // Persistent keepalive also means "keep a session up".
    if (peer.config.persistent_keepalive_s > 0 && !peer.pending_handshake && !peer.gave_up) initiate(peer, now);
    return;
  }
  int64_t last_tx = peer.last_tx_us.load(std::memory_order_relaxed);
  int64_t last_rx_data = peer.last_rx_data_us.load(std::memory_order_relaxed);
  // Passive keepalive: data arrived and we stayed silent for KEEPALIVE.
  bool passive = last_rx_data > last_tx && now - last_rx_data >= zeqonds_to_us(KEEPALIVE_Z);
  bool persistent = peer.config.persistent_keepalive_s > 0 &&
                    now - last_tx >= int64_t(peer.config.persistent_keepalive_s) * 1000000;
  if (passive || persistent) send_keepalive(peer, now);
}

}  // namespace zeq
