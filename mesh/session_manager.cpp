#include "mesh/session_manager.hpp"

#include <spdlog/spdlog.h>

#include <sstream>

#include "protocol/relay_messages.hpp"

namespace zeq {

SessionManager::SessionManager(DataPlane& plane, const LocalIdentity& local, const SecretBuffer& mesh_secret,
                               const Clock& clock, RandomSource& random, SendFn send)
    : plane_(plane), local_(local), mesh_(mesh_secret), clock_(clock), random_(random), send_(std::move(send)),
      scratch_(wire::DATA_OVERHEAD + size_t(plane.mtu)), relay_scratch_(RELAY_OVERHEAD + wire::MAX_MESSAGE_SIZE) {}

SessionManager::~SessionManager() = default;

Peer* SessionManager::peer_by_static(const PublicKey& key) {
  for (auto& p : plane_.peers)
    if (p->key.public_key == key) return p.get();
  return nullptr;
}

void SessionManager::reject(HandshakeReject r, const std::string& context) {
  ++rejects_[size_t(r)];
  spdlog::debug("handshake rejected ({}): {}", to_string(r), context);
}

void SessionManager::send_handshake(PeerCookie& cookie, MutableByteSpan buffer, size_t base_size,
                                    const UdpEndpoint& to, RelayRoute* via, const char* what) {
  cookie.remember_sent(buffer.first(base_size));
  const size_t size = cookie.add_mac2(buffer, base_size, clock_.mono_us());
  if (send_via(to, via, buffer.first(size))) return;
  plane_.control_counters().drop(Drop::kUdpSend);
  spdlog::debug("sending a handshake {} to {} failed; the handshake timers retry", what, to.to_string());
}

void SessionManager::on_handshake_message(ByteSpan message, const UdpEndpoint& from, uint64_t via_route) {
  if (message.empty()) return;
  if (message[0] == wire::kHandshakeInit) {
    on_initiation(message, from, via_route);
  } else if (message[0] == wire::kHandshakeResponse) {
    on_response(message, from, via_route);
  } else if (message[0] == wire::kCookieReply) {
    on_cookie_reply(message, from);
  }
}

// The peer is under load and wants mac2 on our handshake messages. A cookie
// for our initiation is used at once: the initiation is sent again with
// mac2 (at most once per reply, and a reply is good only against the last
// mac1 we sent, so an off-path sender cannot make us send). A cookie for our
// response waits for the initiator's retry.
void SessionManager::on_cookie_reply(ByteSpan message, const UdpEndpoint& from) {
  const uint32_t index = cookie_reply_receiver(message);
  Peer* peer = nullptr;
  bool for_initiation = false;
  for (auto& p : plane_.peers) {
    if (p->pending_handshake && p->pending_handshake->sender_index() == index) {
      peer = p.get();
      for_initiation = true;
    } else if (p->next && p->next->local_index == index) {
      peer = p.get();
    }
  }
  const int64_t now = clock_.mono_us();
  if (!peer || !peer->cookie.accept_reply(message, now))
    return reject(HandshakeReject::kBadCookieReply, "cookie reply from " + from.to_string());
  ++cookies_received_;
  spdlog::debug("peer {}: under load, handed us a cookie", peer->label());
  if (for_initiation) {
    peer->next_retry_us = 0;
    initiate(*peer, now);
  }
}

void SessionManager::on_initiation(ByteSpan message, const UdpEndpoint& from, uint64_t via_route) {
  ReceivedInitiation init;
  if (auto r = read_initiation(local_, plane_.own_mac1_key, message, init); r != HandshakeReject::kNone)
    return reject(r, "initiation from " + from.to_string());
  // Freshness first: an old initiation replayed creates and changes nothing.
  const uint64_t now_z = clock_.zeqond();
  if (!within_drift(init.payload.zeqond, now_z))
    return reject(HandshakeReject::kClockDrift, init.payload.zid + " from " + from.to_string() + " stamped Zeqond " +
                                                    std::to_string(init.payload.zeqond) + ", ours is " +
                                                    std::to_string(now_z) + "; check both clocks (NTP)");
  Peer* peer = peer_by_static(init.initiator_static);
  if (peer && peer->key.zid != init.payload.zid)
    return reject(HandshakeReject::kKeyMismatch, "key of " + peer->key.zid + " used with ZID " + init.payload.zid);
  auto proof = prove(init.extensions, init.initiator_static, init.payload.zid, now_z);
  if (proof.verdict != HandshakeReject::kNone)
    return reject(proof.verdict, "initiation from " + from.to_string() + " claiming " + init.payload.zid +
                                     (proof.certificate ? " with certificate '" + proof.certificate->body.name + "'" : ""));
  if (!peer) {
    if (!proof.certificate)
      return reject(HandshakeReject::kUnknownPeer, "initiation from " + from.to_string() + " claiming " + init.payload.zid);
    peer = admit_certified(std::move(*proof.certificate), from);
    if (!peer) return;
    proof.certificate.reset();
  } else if (auto r = certificate_required(*peer, proof.certificate.has_value()); r != HandshakeReject::kNone) {
    return reject(r, "initiation from " + peer->label() + " without a certificate");
  }
  if (peer->admin_down) return reject(HandshakeReject::kPeerDown, "initiation from " + peer->label() + " (down by operator)");
  RelayRoute* via = via_route ? route_by_id(*peer, via_route) : nullptr;
  if (via_route && !via)
    return reject(HandshakeReject::kUnexpected, "initiation from " + peer->label() + " on another peer's relay channel");
  // A `via: relay` peer is answered through its relay only: an initiation
  // that came directly gets the answer by the route in use, or none.
  if (!via && peer->settings.via == PeerPath::kRelay) {
    via = peer->route.load(std::memory_order_relaxed);
    if (!via)
      return reject(HandshakeReject::kUnexpected, "direct initiation from " + peer->label() + " (via: relay, no relay yet)");
  }
  if (auto r = peer->replay_guard.check(init.payload.zeqond, init.payload.nonce); r != HandshakeReject::kNone)
    return reject(r, "initiation from " + peer->label());

  auto index = plane_.index.reserve();
  if (!index) return reject(HandshakeReject::kUnexpected, "index table full");
  HandshakeRandomness rnd = HandshakeRandomness::draw(random_, *index);
  // Extensions answer extensions: a v1 initiator gets a v1 response.
  const Bytes extensions = init.had_extensions ? trust_.extensions() : Bytes{};
  const size_t size = response_size(extensions.size());
  std::array<uint8_t, wire::MAX_RESPONSE_SIZE + wire::MAC2_SIZE> out{};
  SessionKeys keys;
  if (!write_response(init, local_, mesh_.span(), now_z, rnd, extensions, MutableByteSpan(out.data(), size), keys)) {
    plane_.index.release(*index);
    return reject(HandshakeReject::kBadNoise, "could not answer " + peer->label());
  }
  int64_t now = clock_.mono_us();
  auto session = Keypair::create(keys, peer, plane_.workers + 1, now);
  if (!session) {
    plane_.index.release(*index);
    spdlog::warn("peer {}: handshake not answered: {}", peer->label(), session.message());
    return;
  }
  peer->replay_guard.accept(init.payload.zeqond, init.payload.nonce);
  if (proof.certificate) adopt_certificate(*peer, std::move(*proof.certificate));
  if (key_observer_) key_observer_(keys);
  take_path(*peer, from, via);
  // The new key waits as `next` until the initiator's first packet confirms
  // it; the worker that opens that packet makes it current (Peer::confirm).
  // A `next` already confirmed is promoted, not thrown away.
  catch_up_confirmed(*peer);
  retire(*peer, peer->next);
  peer->next = std::move(session.value());
  peer->await_confirmation(peer->next.get());
  if (!peer->up_since_us) note_bytes_at_up(*peer);  // the confirming packet counts
  plane_.index.publish(keys.local_index, peer->next.get());
  send_handshake(peer->cookie, MutableByteSpan(out.data(), size + wire::MAC2_SIZE), size, from, via, "response");
  // Not yet completed: a responder cannot tell a peer with another mesh
  // secret from a good one until the first data message opens (promote_next).
  ++answered_;
  spdlog::info("peer {}: handshake answered from {}{}", peer->label(), from.to_string(),
               via ? " (relayed by " + via->relay->label() + ")" : std::string());
}

void SessionManager::on_response(ByteSpan message, const UdpEndpoint& from, uint64_t via_route) {
  const uint32_t receiver = load_be32(message.data() + wire::RESPONSE_RECEIVER_INDEX_OFFSET);
  Peer* peer = nullptr;
  for (auto& p : plane_.peers)
    if (p->pending_handshake && p->pending_handshake->sender_index() == receiver) peer = p.get();
  if (!peer) return reject(HandshakeReject::kUnexpected, "response from " + from.to_string());
  RelayRoute* via = via_route ? route_by_id(*peer, via_route) : nullptr;
  if (via_route && !via)
    return reject(HandshakeReject::kUnexpected, "response from " + peer->label() + " on another peer's relay channel");

  SessionKeys keys;
  HandshakeReject r = peer->pending_handshake->finish(message, clock_.zeqond(), mesh_.span(), keys);
  if (r != HandshakeReject::kNone) {
    return reject(r, "response from " + peer->label() +
                         (r == HandshakeReject::kBadNoise ? " (different ZEQ_MESH_SECRET or key?)" : ""));
  }
  auto proof = prove(peer->pending_handshake->received_extensions(), peer->key.public_key, peer->key.zid, clock_.zeqond());
  if (proof.verdict != HandshakeReject::kNone) return reject(proof.verdict, "response from " + peer->label());
  // A v1 answer to an initiation with extensions: the peer has no certificate.
  if (auto why = certificate_required(*peer, proof.certificate.has_value() || !peer->pending_handshake->sent_extensions());
      why != HandshakeReject::kNone)
    return reject(why, "response from " + peer->label() + " without a certificate");
  int64_t now = clock_.mono_us();
  auto session = Keypair::create(keys, peer, plane_.workers + 1, now);
  if (!session) {
    spdlog::warn("peer {}: handshake response not used: {}", peer->label(), session.message());
    return;  // the handshake stays in flight; the timers retry
  }
  // A responder session of ours the peer already confirmed goes into its
  // place first, so the rotation below keeps the newest key current.
  catch_up_confirmed(*peer);
  if (key_observer_) key_observer_(keys);
  if (proof.certificate) adopt_certificate(*peer, std::move(*proof.certificate));
  peer->pending_handshake.reset();
  peer->handshake_started_us = 0;
  peer->unanswered_initiations = 0;
  if (peer->initiation_sent_us) peer->path_rtt_us = now - peer->initiation_sent_us;
  take_path(*peer, from, via);
  bool was_up = peer->current_owned != nullptr;
  // Before the workers can send under the new key: the record counts all it
  // carries.
  if (!peer->up_since_us) note_bytes_at_up(*peer);
  retire(*peer, peer->previous);
  peer->previous = std::move(peer->current_owned);
  peer->current_owned = std::move(session.value());
  plane_.index.publish(keys.local_index, peer->current_owned.get());
  peer->publish_current(peer->current_owned.get());
  peer->last_handshake_us = now;
  ++peer->handshakes;
  if (was_up) ++peer->rekeys;
  ++completed_;
  if (peer->gave_up || !was_up)
    spdlog::info("peer {}: tunnel up via {}", peer->label(), via ? "relay " + via->relay->label() : from.to_string());
  peer->gave_up = false;
  // Confirms the key to the responder at once, even with nothing to send,
  // then what waited for the tunnel; only then the observers, whose records
  // (a database commit among them) the first packets waited 2-4 ms for.
  // The tunnel's record still counts those packets (noted above).
  send_keepalive(*peer, now);
  send_staged(*peer, now);
  sync_tunnel_state(*peer, "");
}

void SessionManager::initiate(Peer& peer, int64_t now) {
  if (peer.admin_down) return;
  if (peer.pending_handshake && now < peer.next_retry_us) return;
  UdpEndpoint ep = peer.endpoint.load();
  RelayRoute* route = peer.route.load(std::memory_order_relaxed);
  if (ep.empty() && !route) return;  // wait for the peer to call us
  if (peer.pending_handshake) {
    plane_.index.release(peer.pending_handshake->sender_index());
    peer.pending_handshake.reset();
  }
  auto index = plane_.index.reserve();
  if (!index) return;
  // With a certificate of our own, every initiation carries it (a peer
  // that does not name us in its YAML admits us by it), unless the peer is
  // set to get PROTOCOL.md v1 messages only.
  const Bytes extensions = peer.settings.send_certificate ? trust_.extensions() : Bytes{};
  const size_t size = initiation_size(extensions.size());
  std::array<uint8_t, wire::MAX_HANDSHAKE_SIZE> out{};
  auto hs = InitiatorHandshake::start(local_, peer.key, mesh_.span(), clock_.zeqond(),
                                      HandshakeRandomness::draw(random_, *index), extensions,
                                      MutableByteSpan(out.data(), size));
  if (!hs) {
    plane_.index.release(*index);
    return;
  }
  peer.pending_handshake = std::move(hs);
  if (peer.handshake_started_us == 0) peer.handshake_started_us = now;
  peer.next_retry_us = now + zeqonds_to_us(HANDSHAKE_RETRY_Z) + int64_t(random_.uniform(HANDSHAKE_RETRY_JITTER_US));
  peer.initiation_sent_us = now;
  send_handshake(peer.cookie, MutableByteSpan(out.data(), size + wire::MAC2_SIZE), size, ep, route, "initiation");
  spdlog::debug("peer {}: handshake initiation sent to {}", peer.label(),
                route ? "relay " + route->relay->label() : ep.to_string());
}

void SessionManager::give_up(Peer& peer) {
  if (peer.pending_handshake) plane_.index.release(peer.pending_handshake->sender_index());
  peer.pending_handshake.reset();
  peer.handshake_started_us = 0;
  if (!peer.gave_up)
    spdlog::warn("peer {}: no handshake answer for {} Zeqonds; tunnel down until traffic or a peer handshake revives it",
                 peer.label(), HANDSHAKE_GIVE_UP_Z);
  peer.gave_up = true;
  // What waited for this handshake will not be sent (a later packet starts
  // another round, as WireGuard does).
  plane_.control_counters().drops[size_t(Drop::kNoSession)].fetch_add(peer.staged.clear(), std::memory_order_relaxed);
}

// The responder's key was confirmed (a worker may already have made it
// current): the control thread's ownership follows.
void SessionManager::promote_next(Peer& peer) {
  retire(peer, peer.previous);
  peer.previous = std::move(peer.current_owned);
  peer.current_owned = std::move(peer.next);
  peer.publish_current(peer.current_owned.get());
  peer.last_handshake_us = clock_.mono_us();
  peer.unanswered_initiations = 0;
  ++peer.handshakes;
  ++completed_;
  if (!peer.previous || peer.gave_up) spdlog::info("peer {}: tunnel up", peer.label());
  else ++peer.rekeys;
  peer.gave_up = false;
}

void SessionManager::retire(Peer& peer, std::unique_ptr<Keypair>& slot) {
  if (!slot) return;
  plane_.index.release(slot->local_index);
  // A `next` a worker confirmed a moment ago may already be current; the key
  // the control thread owns as current takes its place again.
  peer.unpublish(slot.get(), &slot == &peer.next ? peer.current_owned.get() : nullptr);
  plane_.quiescence.retire(std::move(slot));
}

void SessionManager::catch_up_confirmed(Peer& peer) {
  if (peer.next && peer.next->received_any.load(std::memory_order_seq_cst)) promote_next(peer);
}

void SessionManager::on_attention(Peer& peer) {
  peer.wants_attention.store(false, std::memory_order_seq_cst);
  int64_t now = clock_.mono_us();
  follow_arrival(peer);
  catch_up_confirmed(peer);
  sync_tunnel_state(peer, "");
  if (peer.wants_handshake.exchange(false) && !peer.admin_down) {
    Keypair* kp = peer.current_owned.get();
    bool usable = kp && !kp->expired(now) && !kp->exhausted() && !(kp->initiator && kp->needs_rekey(now));
    if (!usable && !peer.pending_handshake) {
      initiate(peer, now);
    }
  }
  // A session a worker just confirmed (responder), or packets held while a
  // handshake was already in flight.
  if (Keypair* kp = peer.current_owned.get(); kp && !kp->expired(now) && !kp->exhausted() && peer.staged.size() > 0)
    send_staged(peer, now);
}

void SessionManager::start_all() {
  int64_t now = clock_.mono_us();
  for (auto& p : plane_.peers)
    if (!(p->from_directory && p->certified_only)) initiate(*p, now);  // those come up on demand
}

void SessionManager::drop_keys(Peer& peer) {
  if (peer.pending_handshake) plane_.index.release(peer.pending_handshake->sender_index());
  peer.pending_handshake.reset();
  peer.handshake_started_us = 0;
  retire(peer, peer.next);
  retire(peer, peer.previous);
  retire(peer, peer.current_owned);
  plane_.control_counters().drops[size_t(Drop::kNoSession)].fetch_add(peer.staged.clear(), std::memory_order_relaxed);
}

void SessionManager::note_bytes_at_up(Peer& peer) {
  peer.rx_bytes_at_up = peer.rx_bytes.load(std::memory_order_relaxed);
  peer.tx_bytes_at_up = peer.tx_bytes.load(std::memory_order_relaxed);
  peer.bytes_at_up_noted = true;
}

void SessionManager::sync_tunnel_state(Peer& peer, const char* down_reason) {
  bool up = peer.current_owned != nullptr;
  if (up && !peer.up_since_us) {
    if (!peer.bytes_at_up_noted) note_bytes_at_up(peer);  // no path above noted them
    peer.bytes_at_up_noted = false;
    peer.up_since_us = clock_.mono_us();
    if (events_) events_->tunnel_up(peer);
  } else if (!up && peer.up_since_us) {
    peer.up_since_us = 0;
    if (events_) events_->tunnel_down(peer, down_reason);
  }
}

void SessionManager::shutdown() {
  for (auto& p : plane_.peers) {
    drop_keys(*p);
    sync_tunnel_state(*p, "daemon_stopped");
  }
  plane_.quiescence.drain();
}

std::string SessionManager::describe() const {
  std::ostringstream out;
  int64_t now = clock_.mono_us();
  out << "node " << local_.zid << ", handshakes completed " << completed_ << ", answered " << answered_ << ", rejected:";
  for (size_t i = 1; i < rejects_.size(); ++i)
    if (rejects_[i]) out << " " << to_string(HandshakeReject(i)) << "=" << rejects_[i];
  out << "; drops:";
  for (size_t d = 0; d < size_t(Drop::kCount); ++d) {
    uint64_t sum = 0;
    for (const auto& c : plane_.counters) sum += c.drops[d].load(std::memory_order_relaxed);
    if (sum) out << " " << to_string(Drop(d)) << "=" << sum;
  }
  for (const auto& p : plane_.peers) {
    out << "\n  peer " << p->label() << ": " << (p->current_owned ? "up" : p->admin_down ? "down (operator)" : "down") << ", endpoint "
        << p->endpoint.load().to_string() << ", rx " << p->rx_bytes.load() << " B, tx " << p->tx_bytes.load()
        << " B, handshakes " << p->handshakes << ", rekeys " << p->rekeys;
    if (p->last_handshake_us)
      out << ", last handshake " << (now - p->last_handshake_us) / TAU_ZQ_US << " Z ago";
  }
  return out.str();
}

}  // namespace zeq
