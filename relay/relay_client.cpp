#include "relay/relay_client.hpp"

#include <spdlog/spdlog.h>

#include <limits>

#include "mesh/peer.hpp"

namespace zeq {

RelayClient::RelayClient(Node& node, const Clock& clock, RandomSource& random, RelayClientSettings settings,
                         RelayEvents* events)
    : node_(node), clock_(clock), random_(random), settings_(std::move(settings)), events_(events) {}

namespace {

RelayRoute* find_route(Peer& peer, uint64_t id) {
  for (const auto& r : peer.relay_routes)
    if (r->id == id) return r.get();
  return nullptr;
}

uint64_t random_u64(RandomSource& random) {
  uint64_t v = 0;
  random.fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), sizeof v));
  return v;
}

}  // namespace

bool RelayClient::affordable(const RelayState& r) const {
  if (!settings_.max_price) return true;
  return r.priced && r.price <= *settings_.max_price;
}

bool RelayClient::has_usable_route(const Peer& peer) const {
  const RelayRoute* route = peer.route.load(std::memory_order_relaxed);
  if (!route) return false;
  auto it = relays_.find(route->relay_serial);
  return it == relays_.end() || !it->second.dead;
}

bool RelayClient::wants_relay(const Peer& peer, int64_t now) const {
  if (peer.settings.is_relay || peer.admin_down || peer.settings.via == PeerPath::kDirect) return false;
  if (has_usable_route(peer)) return false;
  // A punched direct path that died: through a relay again at once.
  if (!peer.route.load(std::memory_order_relaxed) && advisor_ && advisor_->direct_died(peer)) return true;
  if (const RelayRoute* route = peer.route.load(std::memory_order_relaxed)) {
    // Its relay died. The end that asked for the pair fails over; the other
    // follows (its packets arrive by the new pair: Peer::arrived_by), so
    // the two do not each open one, unless the requester has not done so
    // within the grace time (the relay died only towards us).
    for (const auto& [id, p] : pairs_) {
      if (p.peer != peer.serial || p.route_id != route->id) continue;
      if (p.requester) return true;
      auto r = relays_.find(p.relay);
      return r != relays_.end() && r->second.dead && now - r->second.dead_since_us > TARGET_FAILOVER_GRACE_US;
    }
    return true;
  }
  if (auto again = relay_again_until_.find(peer.serial); again != relay_again_until_.end() && again->second > now)
    return true;
  if (peer.settings.via == PeerPath::kRelay) return true;
  // via: auto. A working direct session needs nothing; otherwise the direct
  // handshakes have had their chances.
  if (peer.current.load(std::memory_order_relaxed)) return false;
  return peer.unanswered_initiations >= settings_.direct_attempts && peer.pending_handshake != nullptr;
}

std::optional<uint64_t> RelayClient::choose_relay(const Peer& peer, int64_t now) const {
  const RelayRoute* current = peer.route.load(std::memory_order_relaxed);
  std::optional<uint64_t> best;
  int64_t best_rtt = std::numeric_limits<int64_t>::max();
  for (const auto& [serial, st] : relays_) {
    if (st.dead || !affordable(st) || serial == peer.serial) continue;
    if (current && current->relay_serial == serial) continue;  // the one that failed
    if (auto r = refused_.find({peer.serial, serial}); r != refused_.end() && r->second.until_us > now) continue;
    Peer* relay = node_.peer_by_serial(serial);
    if (!relay || !relay->current.load(std::memory_order_relaxed)) continue;
    const int64_t rtt = st.rtt_us < 0 ? std::numeric_limits<int64_t>::max() / 2 : st.rtt_us;
    if (rtt < best_rtt) {
      best_rtt = rtt;
      best = serial;
    }
  }
  return best;
}

void RelayClient::tunnel_up(Peer& peer) {
  if (peer.settings.is_relay) relays_[peer.serial].ping_sent_us = 0;  // ping at the next tick
}

void RelayClient::tunnel_down(Peer& peer, const char*) {
  std::vector<uint64_t> gone;
  if (peer.settings.is_relay) {
    // Its pairs are gone on its side too (a relay ends a pair when an end's
    // tunnel goes); the routes must not outlive the relay's session.
    for (const auto& [id, p] : pairs_)
      if (p.relay == peer.serial) gone.push_back(id);
    for (uint64_t id : gone) end_pair(id, "relay_gone", false);
    if (auto it = relays_.find(peer.serial); it != relays_.end() && !it->second.dead) {
      it->second.dead = true;
      it->second.dead_since_us = clock_.mono_us();
    }
    return;
  }
  // A far end's tunnel going down changes nothing here: its pairs stay for
  // its next session; a far end that is gone for good is seen at the next
  // tick (end_orphaned_pairs).
}

void RelayClient::relay_control(Peer& peer, ByteSpan plaintext) {
  if (!peer.settings.is_relay) {
    // Only relays we chose may set pairs up with us.
    spdlog::debug("relay message from {}, which is not one of our relays; ignored", peer.label());
    return;
  }
  const uint8_t type = plaintext[1];
  bool ok = true;
  switch (type) {
    case CONTROL_RELAY_OPENED:
      if (auto m = parse_relay_opened(plaintext)) on_opened(peer, *m); else ok = false;
      break;
    case CONTROL_RELAY_REFUSED:
      if (auto m = parse_relay_refused(plaintext)) on_refused(peer, *m); else ok = false;
      break;
    case CONTROL_RELAY_OFFER:
      if (auto m = parse_relay_offer(plaintext)) on_offer(peer, *m); else ok = false;
      break;
    case CONTROL_RELAY_CLOSE:
      if (auto m = parse_relay_close(plaintext)) on_close(peer, *m); else ok = false;
      break;
    case CONTROL_RELAY_PONG:
      if (auto m = parse_relay_pong(plaintext)) on_pong(peer, *m); else ok = false;
      break;
    default:
      spdlog::debug("relay control type {:#04x} from {} is for relays; ignored", type, peer.label());
      return;
  }
  if (!ok) spdlog::debug("malformed relay control message {:#04x} from {} dropped", type, peer.label());
}

void RelayClient::on_pong(Peer& relay, const RelayPong& m) {
  auto it = relays_.find(relay.serial);
  if (it == relays_.end()) return;
  RelayState& st = it->second;
  if (m.nonce != st.ping_nonce || st.ping_nonce == 0) return;  // late or not ours
  st.ping_nonce = 0;
  const int64_t sample = clock_.mono_us() - st.ping_sent_us;
  st.rtt_us = st.rtt_us < 0 ? sample : (7 * st.rtt_us + sample) / 8;
  st.priced = true;
  st.unit = m.unit;
  st.price = m.price;
  st.region = m.region;
}

std::vector<Peer*> RelayClient::usable_relays() const {
  std::vector<Peer*> yaml, directory;
  for (Peer* p : node_.peers()) {
    if (!p->settings.is_relay) continue;
    (p->certified_only ? directory : yaml).push_back(p);
  }
  std::sort(directory.begin(), directory.end(), [](const Peer* a, const Peer* b) { return a->key.zid < b->key.zid; });
  if (directory.size() > MAX_DIRECTORY_RELAYS) directory.resize(MAX_DIRECTORY_RELAYS);
  yaml.insert(yaml.end(), directory.begin(), directory.end());
  return yaml;
}

void RelayClient::end_orphaned_pairs() {
  std::vector<uint64_t> gone;
  for (const auto& [id, p] : pairs_) {
    Peer* relay = node_.peer_by_serial(p.relay);
    if (!node_.peer_by_serial(p.peer) || !relay || !relay->settings.is_relay) gone.push_back(id);
  }
  for (uint64_t id : gone) end_pair(id, "end_gone", true);
}

void RelayClient::ping_relays(int64_t now) {
  std::set<uint64_t> usable;
  for (Peer* p : usable_relays()) {
    usable.insert(p->serial);
    if (!relays_.count(p->serial)) relays_[p->serial] = RelayState{};
  }
  for (auto it = relays_.begin(); it != relays_.end();) {
    Peer* relay = node_.peer_by_serial(it->first);
    // A relay dropped from the list keeps its pairs until they end; only
    // relays with none are forgotten.
    if (!relay || !relay->settings.is_relay || (!usable.count(it->first) && !in_use(it->first))) {
      it = relays_.erase(it);
      continue;
    }
    RelayState& st = it->second;
    ++it;
    if (!relay->current.load(std::memory_order_relaxed)) {
      // A relay is worth a session before it is needed: failover then
      // costs one Open, not a handshake as well.
      // One that gave up is tried again every 13 Zeqonds, not every tick.
      if (!relay->pending_handshake && !relay->admin_down &&
          (!relay->gave_up || now - st.handshake_try_us > 13 * TAU_ZQ_US)) {
        st.handshake_try_us = now;
        node_.handshake_now(*relay);
      }
      continue;
    }
    const int64_t quiet = now - relay->last_rx_us.load(std::memory_order_relaxed);
    bool due = st.ping_sent_us == 0 || now - st.ping_sent_us >= PING_IDLE_US;
    if (in_use(relay->serial) && quiet >= PROBE_EVERY_US && now - st.ping_sent_us >= PROBE_EVERY_US) due = true;
    if (!due) continue;
    st.ping_nonce = random_u64(random_) | 1;
    st.ping_sent_us = now;
    if (st.asked_since_us <= relay->last_rx_us.load(std::memory_order_relaxed)) st.asked_since_us = now;
    (void)node_.send_control(relay->serial, encode_relay_ping({st.ping_nonce}));
  }
}

bool RelayClient::in_use(uint64_t relay_serial) const {
  for (const auto& [id, p] : pairs_)
    if (p.relay == relay_serial) return true;
  return false;
}

void RelayClient::watch_relays(int64_t now) {
  for (auto& [serial, st] : relays_) {
    Peer* relay = node_.peer_by_serial(serial);
    if (!relay) continue;
    const int64_t last_rx = relay->last_rx_us.load(std::memory_order_relaxed);
    const int64_t quiet = now - last_rx;
    if (st.dead) {
      if (quiet < dead_after_us(st) && relay->current.load(std::memory_order_relaxed)) {
        st.dead = false;
        spdlog::info("relay {} answers again", relay->label());
      }
      continue;
    }
    // Asked and silent: a ping went out after its last packet, long enough
    // ago for the answer to be back.
    const bool silent = st.asked_since_us > last_rx && now - st.asked_since_us > dead_after_us(st) &&
                        quiet > dead_after_us(st);
    // A relay that does not answer its pings may have restarted and lost
    // our session (it drops what we send under the old keys without a
    // word): a new handshake, at most once a Zeqond, finds out.
    if (silent && !relay->pending_handshake && now - st.handshake_try_us > TAU_ZQ_US) {
      st.handshake_try_us = now;
      node_.handshake_now(*relay);
    }
    if (in_use(serial) && silent) {
      st.dead = true;
      st.dead_since_us = now;
      // A failover is urgent: earlier refusals of its peers by other relays
      // (the target had no session there yet, say) are not waited out.
      for (const auto& [id, p] : pairs_)
        if (p.relay == serial)
          for (auto r = refused_.begin(); r != refused_.end();)
            r = r->first.first == p.peer ? refused_.erase(r) : std::next(r);
      spdlog::warn("relay {} stopped answering ({} ms without a packet); moving its pairs to another relay",
                   relay->label(), quiet / 1000);
    }
  }
}

void RelayClient::open_wanted(int64_t now) {
  for (auto it = opening_.begin(); it != opening_.end();) {
    if (now - it->second.asked_us > OPEN_TIMEOUT_US) {
      // Nothing at all from the relay since: probe it with a ping, so a
      // relay that lost our session is found out (watch_relays).
      if (Peer* relay = node_.peer_by_serial(it->second.relay);
          relay && relay->last_rx_us.load(std::memory_order_relaxed) < it->second.asked_us)
        relays_[it->second.relay].ping_sent_us = 0;
      // Unanswered (lost, or the relay is slow): another relay, or this one
      // again after a Zeqond; not a refusal.
      Refusal& r = refused_[{it->first, it->second.relay}];
      r.until_us = std::max(r.until_us, now + OPEN_TIMEOUT_US);
      it = opening_.erase(it);
    } else {
      ++it;
    }
  }
  for (Peer* peer : node_.peers()) {
    if (opening_.count(peer->serial) || !wants_relay(*peer, now)) continue;
    auto relay = choose_relay(*peer, now);
    if (!relay) continue;
    const uint32_t request_id = next_request_id_++;
    if (!node_.send_control(*relay, encode_relay_open({request_id, peer->key.zid}))) continue;
    opening_[peer->serial] = {*relay, request_id, now};
    spdlog::debug("peer {}: asking relay {} for a pair", peer->label(), node_.peer_by_serial(*relay)->label());
  }
}

void RelayClient::on_opened(Peer& relay, const RelayOpened& m) {
  auto it = std::find_if(opening_.begin(), opening_.end(), [&](const auto& o) {
    return o.second.request_id == m.request_id && o.second.relay == relay.serial;
  });
  if (it == opening_.end()) {
    // Too late (we gave up on it): the relay holds a pair nobody uses.
    (void)node_.send_control(relay.serial, encode_relay_close({m.channel, RelayReason::kClosed}));
    return;
  }
  Peer* peer = node_.peer_by_serial(it->first);
  opening_.erase(it);
  const int64_t now = clock_.mono_us();
  // No longer wanted (the direct handshake succeeded meanwhile), or dearer
  // than we take: closed at once.
  if (!peer || !wants_relay(*peer, now) || (settings_.max_price && m.price > *settings_.max_price)) {
    (void)node_.send_control(relay.serial, encode_relay_close({m.channel, RelayReason::kClosed}));
    if (peer) note_refusal(peer->serial, relay.serial, now, REFUSED_BACKOFF_US);
    return;
  }
  // The pairs this one replaces (a failover): ours through a relay that
  // died, or asked for earlier; ended once the new route is in place, so no
  // packet finds no way. A pair the peer asked for through a live relay
  // stays: it is the peer's to end.
  std::vector<uint64_t> replaced;
  for (const auto& [id, p] : pairs_) {
    if (p.peer != peer->serial) continue;
    auto r = relays_.find(p.relay);
    if (p.requester || (r != relays_.end() && r->second.dead)) replaced.push_back(id);
  }
  ClientPair cp;
  cp.id = next_pair_id_++;
  cp.peer = peer->serial;
  cp.relay = relay.serial;
  cp.channel = m.channel;
  cp.route_id = node_.add_relay_route(*peer, relay, m.channel, true);
  cp.requester = true;
  cp.info.pair_id = cp.id;
  cp.info.relay_zid = relay.key.zid;
  cp.info.requester_zid = node_.zid();
  cp.info.target_zid = peer->key.zid;
  cp.info.local_zid = node_.zid();
  cp.info.peer_zid = peer->key.zid;
  cp.info.unit = m.unit;
  cp.info.price = m.price;
  cp.info.started_z = clock_.zeqond();
  cp.receipt_z = cp.info.started_z;
  cp.used_z = cp.info.started_z;
  pairs_.emplace(cp.id, cp);
  refused_.erase({peer->serial, relay.serial});
  // A pair that ended under us may mean the far end restarted (it told its
  // relay it holds no such pair): its keys are gone too, so the new pair
  // starts with a handshake rather than after unanswered data.
  const bool ended_under_us = relay_again_until_.erase(peer->serial) > 0;
  if (events_) events_->pair_opened(cp.info);
  bool failover = false;
  for (uint64_t id : replaced) {
    auto r = relays_.find(pairs_.at(id).relay);
    failover |= r != relays_.end() && r->second.dead;
    end_pair(id, "failover", true);
  }
  if (failover) ++failovers_;
  spdlog::info("peer {}: through relay {} (channel {}, {} {} per {}){}", peer->label(), relay.label(), m.channel,
               m.price, "zeq", to_string(m.unit), replaced.empty() ? "" : ", after failover");
  if (!peer->current.load(std::memory_order_relaxed) || ended_under_us) node_.handshake_now(*peer);
}

void RelayClient::on_refused(Peer& relay, const RelayRefused& m) {
  auto it = std::find_if(opening_.begin(), opening_.end(), [&](const auto& o) {
    return o.second.request_id == m.request_id && o.second.relay == relay.serial;
  });
  if (it == opening_.end()) return;
  Peer* peer = node_.peer_by_serial(it->first);
  // A target without a session with that relay may get one any moment (it
  // is starting, or learning the relay from the directory): asked again
  // soon at first; every refusal in a row doubles the wait.
  const int times = note_refusal(it->first, relay.serial, clock_.mono_us(),
                                 m.reason == RelayReason::kTargetUnknown ? 2 * TAU_ZQ_US : REFUSED_BACKOFF_US);
  opening_.erase(it);
  // The first refusal in a row is news; the retries' are not.
  spdlog::log(times == 1 ? spdlog::level::info : spdlog::level::debug, "peer {}: relay {} refused a pair ({}){}",
              peer ? peer->label() : "?", relay.label(), relay_reason_name(m.reason),
              times == 1 ? "; asking again later" : "");
}

int RelayClient::note_refusal(uint64_t peer, uint64_t relay, int64_t now, int64_t first_wait_us) {
  Refusal& r = refused_[{peer, relay}];
  ++r.count;
  r.until_us = now + std::min(REFUSED_BACKOFF_MAX_US, first_wait_us << std::min(r.count - 1, 10));
  return r.count;
}

void RelayClient::on_offer(Peer& relay, const RelayOffer& m) {
  // A channel the relay gives again is a new pair: the old one (its Close
  // lost) goes first, so two routes never share (relay, channel).
  for (const auto& [id, p] : pairs_)
    if (p.relay == relay.serial && p.channel == m.channel) {
      end_pair(id, "replaced", false);
      break;
    }
  Peer* peer = node_.peer_by_zid(m.requester_zid);
  // We agree only for a peer we know (its key, so the end-to-end handshake
  // can succeed) and do not keep direct-only.
  if (!peer || peer->settings.is_relay || peer->admin_down || peer->settings.via == PeerPath::kDirect) {
    (void)node_.send_control(relay.serial, encode_relay_decline(m.channel, RelayReason::kDeclined));
    spdlog::info("relay {} offered a pair with {}, declined (not a peer of ours)", relay.label(), m.requester_zid);
    return;
  }
  // Both ends asked at once: the lower ZID's pair is the one kept, so there
  // are not two.
  if (auto mine = opening_.find(peer->serial); mine != opening_.end()) {
    if (node_.zid() < peer->key.zid) {
      (void)node_.send_control(relay.serial, encode_relay_decline(m.channel, RelayReason::kDeclined));
      return;
    }
    opening_.erase(mine);  // its Opened, if it comes, is closed (not found)
  }
  ClientPair cp;
  cp.id = next_pair_id_++;
  cp.peer = peer->serial;
  cp.relay = relay.serial;
  cp.channel = m.channel;
  // Taken into use when the requester's messages arrive by it (roaming).
  cp.route_id = node_.add_relay_route(*peer, relay, m.channel, false);
  cp.requester = false;
  cp.info.pair_id = cp.id;
  cp.info.relay_zid = relay.key.zid;
  cp.info.requester_zid = peer->key.zid;
  cp.info.target_zid = node_.zid();
  cp.info.local_zid = node_.zid();
  cp.info.peer_zid = peer->key.zid;
  cp.info.price = 0;  // the requester pays
  cp.info.started_z = clock_.zeqond();
  cp.used_z = cp.info.started_z;
  pairs_.emplace(cp.id, cp);
  (void)node_.send_control(relay.serial, encode_relay_accept(m.channel));
  if (events_) events_->pair_opened(cp.info);
  spdlog::info("peer {}: relay {} carries its pair to us (channel {})", peer->label(), relay.label(), m.channel);
}

void RelayClient::unknown_channel(Peer& relay, uint32_t channel) {
  relay.unknown_channel.store(0, std::memory_order_relaxed);
  if (!relay.settings.is_relay) return;
  for (const auto& [id, p] : pairs_)
    if (p.relay == relay.serial && p.channel == channel) return;  // ours after all (a race with its route)
  RelayState& st = relays_[relay.serial];
  const int64_t now = clock_.mono_us();
  if (st.stale_close_us && now - st.stale_close_us < TAU_ZQ_US) return;
  st.stale_close_us = now;
  spdlog::info("relay {} forwards a pair we do not have (channel {}); asking it to close the pair", relay.label(), channel);
  (void)node_.send_control(relay.serial, encode_relay_close({channel, RelayReason::kEndGone}));
}

void RelayClient::on_close(Peer& relay, const RelayClose& m) {
  for (const auto& [id, p] : pairs_) {
    if (p.relay == relay.serial && p.channel == m.channel) {
      spdlog::info("relay {} closed channel {} ({})", relay.label(), m.channel, relay_reason_name(m.reason));
      return end_pair(id, "closed_by_relay", false);
    }
  }
}

RelayedBytes RelayClient::bytes_of(const ClientPair& p) const {
  Peer* peer = node_.peer_by_serial(p.peer);
  const RelayRoute* route = peer ? find_route(*peer, p.route_id) : nullptr;
  if (!route) return {};
  const uint64_t tx = route->tx_bytes.load(std::memory_order_relaxed);
  const uint64_t rx = route->rx_bytes.load(std::memory_order_relaxed);
  return p.requester ? RelayedBytes{tx, rx} : RelayedBytes{rx, tx};
}

void RelayClient::send_receipt(const ClientPair& p) {
  UsageReceipt u;
  u.relay_zid = p.info.relay_zid;
  u.requester_zid = p.info.requester_zid;
  u.target_zid = p.info.target_zid;
  u.channel = p.channel;
  u.opened_z = p.info.started_z;
  u.zeqond = clock_.zeqond();
  const RelayedBytes b = bytes_of(p);
  u.up = b.up;
  u.down = b.down;
  u.unit = p.info.unit;
  u.price = p.info.price;
  (void)node_.send_control(p.relay, encode_relay_receipt(sign_usage_receipt(u, settings_.signing)));
}

void RelayClient::end_pair(uint64_t id, const char* reason, bool tell_relay) {
  auto it = pairs_.find(id);
  if (it == pairs_.end()) return;
  ClientPair p = std::move(it->second);
  pairs_.erase(it);
  const RelayedBytes bytes = bytes_of(p);  // before the route goes
  Peer* far = node_.peer_by_serial(p.peer);
  const RelayRoute* in_use_route = far ? far->route.load(std::memory_order_relaxed) : nullptr;
  // The pair in use ended under us (closed by the relay, or the relay
  // went): a relay again at once, not after the direct path's attempts.
  if (!tell_relay && far && in_use_route && in_use_route->id == p.route_id)
    relay_again_until_[p.peer] = clock_.mono_us() + 13 * TAU_ZQ_US;
  if (tell_relay) {
    if (p.requester) send_receipt(p);
    (void)node_.send_control(p.relay, encode_relay_close({p.channel, RelayReason::kClosed}));
  }
  if (far) node_.remove_relay_route(*far, p.route_id);
  if (events_) events_->pair_closed(p.id, bytes, clock_.zeqond(), reason);
}

void RelayClient::close_all(const char* reason) {
  while (!pairs_.empty()) end_pair(pairs_.begin()->first, reason, true);
}

void RelayClient::relay_tick() {
  const int64_t now = clock_.mono_us();
  ping_relays(now);
  watch_relays(now);
  open_wanted(now);
  if (++ticks_ % 8 != 0) return;  // once per Zeqond
  end_orphaned_pairs();
  for (auto it = opening_.begin(); it != opening_.end();)
    it = node_.peer_by_serial(it->first) ? std::next(it) : opening_.erase(it);
  const uint64_t z = clock_.zeqond();
  std::vector<uint64_t> unused;
  for (auto& [id, p] : pairs_) {
    Peer* far = node_.peer_by_serial(p.peer);
    const RelayRoute* route = far ? far->route.load(std::memory_order_relaxed) : nullptr;
    if (route && route->id == p.route_id) p.used_z = z;
    // A pair standing by for a punched direct path stays (nat_traversal.hpp).
    if (p.requester && z > p.used_z + UNUSED_PAIR_Z && !(far && advisor_ && advisor_->keep_pair(*far)))
      unused.push_back(id);
    if (events_) events_->pair_counters(id, bytes_of(p));
    if (p.requester && z >= p.receipt_z + RECEIPT_EVERY_Z) {
      send_receipt(p);
      p.receipt_z = z;
    }
  }
  for (uint64_t id : unused) end_pair(id, "unused", true);
}

int64_t RelayClient::relay_rtt_us(uint64_t serial) const {
  auto it = relays_.find(serial);
  return it == relays_.end() ? -1 : it->second.rtt_us;
}

std::vector<RelayClient::RelayView> RelayClient::relays() const {
  std::vector<RelayView> out;
  for (Peer* relay : usable_relays()) {
    const uint64_t serial = relay->serial;
    auto found = relays_.find(serial);
    const RelayState st = found == relays_.end() ? RelayState{} : found->second;
    RelayView v;
    v.name = relay->settings.name;
    v.zid = relay->key.zid;
    v.endpoint = relay->endpoint.load().to_string();
    v.session = relay->current.load(std::memory_order_relaxed) != nullptr;
    v.alive = v.session && !st.dead;
    v.priced = st.priced;
    v.rtt_us = st.rtt_us;
    v.unit = st.unit;
    v.price = st.price;
    v.region = st.region;
    v.within_max_price = affordable(st);
    for (const auto& [id, p] : pairs_)
      if (p.relay == serial) ++v.pairs;
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<RelayClient::PairView> RelayClient::pairs() const {
  std::vector<PairView> out;
  for (const auto& [id, p] : pairs_) {
    PairView v;
    v.id = id;
    Peer* peer = node_.peer_by_serial(p.peer);
    Peer* relay = node_.peer_by_serial(p.relay);
    v.peer = peer ? peer->label() : "?";
    v.relay = relay ? relay->label() : "?";
    v.channel = p.channel;
    v.requester = p.requester;
    const RelayRoute* route = peer ? peer->route.load(std::memory_order_relaxed) : nullptr;
    v.in_use = route && route->id == p.route_id;
    v.bytes = bytes_of(p);
    v.started_z = p.info.started_z;
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace zeq
