#include "relay/relay_service.hpp"

#include <spdlog/spdlog.h>

#include "mesh/peer.hpp"

namespace zeq {

RelayService::RelayService(Node& node, const Clock& clock, RandomSource& random, RelayServiceSettings settings,
                           RelayEvents* events, MetadataLog* metadata)
    : node_(node), clock_(clock), random_(random), settings_(std::move(settings)), events_(events), metadata_(metadata) {}

uint32_t RelayService::new_channel() {
  // Random, so a channel number says nothing about how many pairs there are
  // or were; by_channel_ keeps them unique.
  for (;;) {
    uint32_t c = 1 + random_.uniform(RELAY_CHANNEL_MAX);
    if (!by_channel_.count(c)) return c;
  }
}

size_t RelayService::pairs_of(uint64_t serial) const {
  size_t n = 0;
  for (const auto& [id, p] : pairs_)
    if (p.requester == serial) ++n;
  return n;
}

std::shared_ptr<RelayClientBudget> RelayService::budget_of(uint64_t serial) {
  auto& b = budgets_[serial];
  if (!b)
    b = std::make_shared<RelayClientBudget>(settings_.client_bytes_per_s, settings_.queued_bytes_per_client,
                                            clock_.mono_us());
  return b;
}

RelayedBytes RelayService::bytes_of(const Pair& p) const {
  if (!p.counters) return {};
  return {p.counters->up_bytes.load(std::memory_order_relaxed), p.counters->down_bytes.load(std::memory_order_relaxed)};
}

void RelayService::publish() {
  auto table = std::make_shared<RelaySwitchTable>();
  for (const auto& [id, p] : pairs_) {
    if (!p.open) continue;
    Peer* a = node_.peer_by_serial(p.requester);
    Peer* b = node_.peer_by_serial(p.target);
    if (!a || !b) continue;
    table->legs[p.requester_channel] = {a, b, p.target_channel, true, p.counters, budget_of(p.requester)};
    table->legs[p.target_channel] = {b, a, p.requester_channel, false, p.counters, budget_of(p.target)};
  }
  node_.publish_relay_switch(std::move(table));
}

void RelayService::refuse(Peer& requester, uint32_t request_id, RelayReason reason) {
  ++refused_[size_t(reason)];
  spdlog::debug("relay: pair request {} refused ({})", request_id, relay_reason_name(reason));
  (void)node_.send_control(requester.serial, encode_relay_refused({request_id, reason}));
}

void RelayService::relay_control(Peer& peer, ByteSpan plaintext) {
  const uint8_t type = plaintext[1];
  switch (type) {
    case CONTROL_RELAY_OPEN:
      if (auto m = parse_relay_open(plaintext)) return on_open(peer, *m);
      break;
    case CONTROL_RELAY_ACCEPT:
    case CONTROL_RELAY_DECLINE:
      if (auto m = parse_relay_answer(plaintext)) return on_answer(peer, *m);
      break;
    case CONTROL_RELAY_CLOSE:
      if (auto m = parse_relay_close(plaintext)) return on_close(peer, *m);
      break;
    case CONTROL_RELAY_PING:
      if (auto m = parse_relay_ping(plaintext)) {
        (void)node_.send_control(peer.serial,
                                 encode_relay_pong({m->nonce, settings_.unit, settings_.price, settings_.region}));
        return;
      }
      break;
    case CONTROL_RELAY_RECEIPT:
      if (auto r = parse_relay_receipt(plaintext)) return on_receipt(peer, *r);
      break;
    default:  // messages for a client (Offer, Opened, ...): not a relay's to take
      spdlog::debug("relay: control type {:#04x} from {} is for clients; ignored", type, peer.label());
      return;
  }
  spdlog::debug("relay: malformed control message {:#04x} from {} dropped", type, peer.label());
}

void RelayService::on_open(Peer& requester, const RelayOpen& m) {
  // A client opening and closing pairs in a loop costs rows and table
  // rebuilds here and at its targets: a few Opens per Zeqond each.
  const uint64_t z = clock_.zeqond();
  auto& rate = open_rate_[requester.serial];
  if (rate.first != z) rate = {z, 0};
  if (++rate.second > OPENS_PER_Z) return refuse(requester, m.request_id, RelayReason::kBusy);
  if (m.target_zid == requester.key.zid) return refuse(requester, m.request_id, RelayReason::kSelf);
  if (pairs_.size() >= settings_.max_pairs) return refuse(requester, m.request_id, RelayReason::kBusy);
  if (pairs_of(requester.serial) >= settings_.pairs_per_client)
    return refuse(requester, m.request_id, RelayReason::kPairLimit);
  // The target must be a member with a session with us now: the relay
  // reaches nobody it cannot already talk to.
  Peer* target = node_.peer_by_zid(m.target_zid);
  if (!target || target->admin_down || !target->current.load(std::memory_order_acquire))
    return refuse(requester, m.request_id, RelayReason::kTargetUnknown);
  Pair p;
  p.id = next_pair_id_++;
  p.requester = requester.serial;
  p.target = target->serial;
  p.request_id = m.request_id;
  p.requester_channel = new_channel();
  by_channel_[p.requester_channel] = p.id;
  p.target_channel = new_channel();
  by_channel_[p.target_channel] = p.id;
  p.offered_us = clock_.mono_us();
  if (!node_.send_control(target->serial, encode_relay_offer({p.target_channel, requester.key.zid}))) {
    by_channel_.erase(p.requester_channel);
    by_channel_.erase(p.target_channel);
    return refuse(requester, m.request_id, RelayReason::kTargetUnknown);
  }
  pairs_.emplace(p.id, std::move(p));
}

void RelayService::on_answer(Peer& target, const RelayAnswer& m) {
  auto c = by_channel_.find(m.channel);
  if (c == by_channel_.end()) {
    // Too late (the offer timed out) or never ours: the target must not
    // keep a route for a pair that does not exist.
    if (m.reason == RelayReason::kNone)
      (void)node_.send_control(target.serial, encode_relay_close({m.channel, RelayReason::kTimeout}));
    return;
  }
  auto it = pairs_.find(c->second);
  Pair& p = it->second;
  if (p.open || p.target != target.serial || p.target_channel != m.channel) return;  // not its offer to answer
  Peer* requester = node_.peer_by_serial(p.requester);
  // The target accepted and made a route: it is told the pair is gone.
  if (!requester) return close_pair(p.id, RelayReason::kEndGone, m.reason == RelayReason::kNone ? 0 : target.serial,
                                    "requester_gone");
  if (m.reason != RelayReason::kNone) {
    const uint32_t request_id = p.request_id;
    close_pair(p.id, m.reason, target.serial, "declined");
    return refuse(*requester, request_id, RelayReason::kDeclined);
  }
  const int64_t now = clock_.mono_us();
  p.open = true;
  p.counters = std::make_shared<RelayPairCounters>(settings_.pair_bytes_per_s, settings_.queued_bytes_per_client, now);
  p.info.pair_id = p.id;
  p.info.on_relay = true;
  p.info.relay_zid = node_.zid();
  p.info.requester_zid = requester->key.zid;
  // Who the requester talks to is metadata: the ledger row names the
  // target only when the operator keeps metadata (relay.metadata_log);
  // the payer it always names.
  p.target_zid = target.key.zid;
  p.info.target_zid = metadata_ && metadata_->enabled() ? target.key.zid : std::string();
  p.info.local_zid = node_.zid();
  p.info.peer_zid = requester->key.zid;
  p.info.requester_endpoint = requester->endpoint.load();
  p.info.target_endpoint = target.endpoint.load();
  p.info.unit = settings_.unit;
  p.info.price = settings_.price;
  p.info.started_z = clock_.zeqond();
  publish();
  ++opened_;
  (void)node_.send_control(requester->serial,
                           encode_relay_opened({p.request_id, p.requester_channel, settings_.unit, settings_.price}));
  if (events_) events_->pair_opened(p.info);
  // The pair's ends are metadata: the journal gets the pair's number only
  // (relay.metadata_log decides what is kept about who talked to whom).
  spdlog::info("relay: pair {} open", p.id);
}

void RelayService::on_close(Peer& from, const RelayClose& m) {
  auto c = by_channel_.find(m.channel);
  if (c == by_channel_.end()) return;
  const Pair& p = pairs_.at(c->second);
  // Only an end may close, and only by its own channel.
  const bool own = (p.requester == from.serial && p.requester_channel == m.channel) ||
                   (p.target == from.serial && p.target_channel == m.channel);
  if (!own) return;
  close_pair(p.id, RelayReason::kClosed, from.serial, "closed");
}

void RelayService::on_receipt(Peer& from, ByteSpan receipt) {
  auto r = open_usage_receipt(receipt);
  if (!r) return spdlog::debug("relay: usage receipt from {} does not verify; dropped", from.label());
  if (r->relay_zid != node_.zid() || r->requester_zid != from.key.zid)
    return spdlog::debug("relay: usage receipt from {} names other nodes; dropped", from.label());
  // A certified requester must sign with the key its certificate names, so
  // anyone holding that certificate can check the receipt.
  if (from.certificate && from.certificate->body.signing_public != r->signing_public)
    return spdlog::debug("relay: usage receipt from {} not signed by its certificate's key; dropped", from.label());
  auto c = by_channel_.find(r->channel);
  if (c == by_channel_.end()) return;
  Pair& p = pairs_.at(c->second);
  if (p.requester != from.serial || p.requester_channel != r->channel || !p.open) return;
  // It must describe this pair on its terms, and only ever acknowledge more.
  // (Not opened_z: the requester stamps it with its own clock when Opened
  // arrives, which may be a Zeqond off ours.)
  if (r->target_zid != p.target_zid || r->unit != p.info.unit || r->price != p.info.price ||
      r->up < p.receipt_up || r->down < p.receipt_down)
    return spdlog::debug("relay: usage receipt for pair {} does not match it; dropped", p.id);
  // One kept per RECEIPT_MIN_GAP_Z at most (a client's flood of them is not
  // the ledger's problem); a final one at the end of the pair always is.
  const uint64_t z = clock_.zeqond();
  if (p.receipts > 0 && z < p.receipt_z + RECEIPT_MIN_GAP_Z) {
    p.pending_receipt.assign(receipt.begin(), receipt.end());
    return;
  }
  p.receipt_z = z;
  p.receipt_up = r->up;
  p.receipt_down = r->down;
  ++p.receipts;
  p.pending_receipt.clear();
  if (events_) events_->receipt(p.id, receipt, {r->up, r->down}, r->zeqond);
}

void RelayService::close_pair(uint64_t id, RelayReason reason, uint64_t told_by, const char* why) {
  auto it = pairs_.find(id);
  if (it == pairs_.end()) return;
  Pair p = std::move(it->second);
  pairs_.erase(it);
  by_channel_.erase(p.requester_channel);
  by_channel_.erase(p.target_channel);
  if (!p.open) {
    // An offer the target may have accepted meanwhile (its Accept lost or
    // late): it drops the route it made.
    if (p.target != told_by) (void)node_.send_control(p.target, encode_relay_close({p.target_channel, reason}));
    return;
  }
  publish();  // later messages are not forwarded (those in a worker's batch still may be)
  settle(p, reason, told_by, why);
}

void RelayService::settle(const Pair& p, RelayReason reason, uint64_t told_by, const char* why) {
  if (p.requester != told_by)
    (void)node_.send_control(p.requester, encode_relay_close({p.requester_channel, reason}));
  if (p.target != told_by) (void)node_.send_control(p.target, encode_relay_close({p.target_channel, reason}));
  const RelayedBytes bytes = bytes_of(p);
  const uint64_t z = clock_.zeqond();
  // A receipt held back by the rate is kept before the row is settled.
  if (events_ && !p.pending_receipt.empty())
    if (auto r = open_usage_receipt(p.pending_receipt))
      events_->receipt(p.id, p.pending_receipt, {r->up, r->down}, r->zeqond);
  if (events_) events_->pair_closed(p.id, bytes, z, why);
  if (metadata_)
    if (Status s = metadata_->record(p.info, bytes, z); !s) spdlog::warn("relay: metadata log: {}", s.message());
  spdlog::info("relay: pair {} closed ({})", p.id, why);
}

void RelayService::close_all(const char* reason) {
  // One table for all (a pair at a time would rebuild it once per pair).
  std::map<uint64_t, Pair> all = std::move(pairs_);
  pairs_.clear();
  by_channel_.clear();
  publish();
  for (const auto& [id, p] : all)
    if (p.open) settle(p, RelayReason::kEndGone, 0, reason);
}

void RelayService::unknown_channel(Peer& client, uint32_t channel) {
  client.unknown_channel.store(0, std::memory_order_relaxed);
  if (auto c = by_channel_.find(channel); c != by_channel_.end()) {
    const Pair& p = pairs_.at(c->second);
    const bool own = (p.requester == client.serial && p.requester_channel == channel) ||
                     (p.target == client.serial && p.target_channel == channel);
    if (own) return;  // opened meanwhile (the worker's table was older)
  }
  const uint64_t z = clock_.zeqond();
  auto& last = stale_close_z_[client.serial];
  if (last == z) return;
  last = z;
  (void)node_.send_control(client.serial, encode_relay_close({channel, RelayReason::kEndGone}));
}

void RelayService::tunnel_up(Peer&) {}

void RelayService::tunnel_down(Peer& peer, const char*) {
  std::vector<uint64_t> gone;
  for (const auto& [id, p] : pairs_)
    if (p.requester == peer.serial || p.target == peer.serial) gone.push_back(id);
  for (uint64_t id : gone) close_pair(id, RelayReason::kEndGone, peer.serial, "end_gone");
  budgets_.erase(peer.serial);
  open_rate_.erase(peer.serial);
  stale_close_z_.erase(peer.serial);
}

void RelayService::relay_tick() {
  const int64_t now = clock_.mono_us();
  std::vector<uint64_t> late;
  for (const auto& [id, p] : pairs_)
    if (!p.open && now - p.offered_us > OFFER_TIMEOUT_US) late.push_back(id);
  for (uint64_t id : late) {
    const Pair& p = pairs_.at(id);
    Peer* requester = node_.peer_by_serial(p.requester);
    const uint32_t request_id = p.request_id;
    close_pair(id, RelayReason::kTimeout, 0, "timeout");
    if (requester) refuse(*requester, request_id, RelayReason::kTimeout);
  }
  ++ticks_;
  // The metadata log keeps lines for its retention only; pruned every 128 Z.
  if (metadata_ && metadata_->enabled() && ticks_ % (COUNTERS_EVERY_TICKS * 128) == 0)
    if (auto pruned = metadata_->prune(clock_.zeqond()); !pruned)
      spdlog::warn("relay: metadata log: {}", pruned.status().message());
  if (ticks_ % COUNTERS_EVERY_TICKS != 0 || !events_) return;
  for (const auto& [id, p] : pairs_)
    if (p.open) events_->pair_counters(id, bytes_of(p));
}

std::vector<RelayService::PairView> RelayService::pairs() const {
  std::vector<PairView> out;
  for (const auto& [id, p] : pairs_) {
    PairView v;
    v.id = id;
    Peer* a = node_.peer_by_serial(p.requester);
    Peer* b = node_.peer_by_serial(p.target);
    v.requester = a ? a->label() : "?";
    v.target = b ? b->label() : "?";
    v.requester_zid = a ? a->key.zid : "";
    v.target_zid = b ? b->key.zid : "";
    v.requester_channel = p.requester_channel;
    v.target_channel = p.target_channel;
    v.open = p.open;
    v.started_z = p.info.started_z;
    v.bytes = bytes_of(p);
    if (p.counters) {
      v.dropped_over_limit = p.counters->dropped_over_limit.load(std::memory_order_relaxed);
      v.dropped_no_session = p.counters->dropped_no_session.load(std::memory_order_relaxed);
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace zeq
