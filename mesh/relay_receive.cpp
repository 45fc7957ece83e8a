// UDP -> UDP or TUN for RelayData (protocol/relay_messages.hpp): the hop's
// tag is checked under the session with whoever sent it (the client, on a
// relay; the relay, on a client), then a relay forwards the carried message
// by its switch table, re-tagged for the next hop in place, and a client
// opens what it carries as if it had come straight from the far end, noting
// the route it came by.
#include "core/clock.hpp"
#include "mesh/data_worker.hpp"
#include "protocol/relay_messages.hpp"

namespace zeq {

void DataWorker::receive_relayed(const PeerTable& table, uint8_t* msg, size_t len, const UdpEndpoint& from, int64_t now) {
  RelayDataHeader h;
  if (!parse_relay_data_header(ByteSpan(msg, len), h)) return counters_.drop(Drop::kMalformed);
  Keypair* kp = plane_.index.lookup(h.receiver_index);
  if (!kp) return counters_.drop(Drop::kUnknownIndex);
  if (kp->expired(now)) return counters_.drop(Drop::kExpiredKey);
  if (!kp->replay_may_accept(h.counter)) return counters_.drop(Drop::kReplay);
  if (!verify_relay_data(kp->opener(id_), msg, len)) return counters_.drop(Drop::kBadTag);
  if (!kp->replay_accept(h.counter)) return counters_.drop(Drop::kReplay);
  Peer& hop = *kp->peer;
  note_authenticated(hop, *kp, len, now);
  note_arrival(hop, from, nullptr, len);

  if (plane_.relay_role) return forward_relayed(hop, h.channel, msg, len, now);
  // A client: only from a relay of ours, on a channel it gave us.
  if (!hop.relays_for_us.load(std::memory_order_relaxed)) return counters_.drop(Drop::kRelayUnexpected);
  RelayRoute* route = table.relay_route(hop.serial, h.channel);
  if (!route) {
    // The relay still forwards a pair we do not have (this node restarted):
    // the control thread asks it to close the pair, so the other end opens
    // a new one instead of sending into nothing.
    if (hop.unknown_channel.exchange(h.channel, std::memory_order_relaxed) != h.channel)
      plane_.request_attention(hop, false);
    return counters_.drop(Drop::kRelayChannel);
  }
  uint8_t* carried = msg + RELAY_OVERHEAD;
  const size_t carried_len = len - RELAY_OVERHEAD;
  switch (carried[0]) {
    case wire::kData:
      return receive_data(table, carried, carried_len, from, now, route);
    case wire::kHandshakeInit:
    case wire::kHandshakeResponse:
      return receive_handshake(carried, carried_len, from, now, route);
    case wire::kCookieReply:
      return receive_cookie_reply(carried, carried_len, from, now, route);
    default:
      return counters_.drop(Drop::kMalformed);
  }
}

// The relay's part: only on a channel of the sender's own pairs, within its
// limits, to the far end's current session. Nothing is opened: the carried
// message is the two ends' ciphertext.
void DataWorker::forward_relayed(Peer& sender, uint32_t channel, uint8_t* msg, size_t len, int64_t now) {
  const RelaySwitchTable* sw = plane_.relay_switch();
  auto it = sw ? sw->legs.find(channel) : decltype(sw->legs.end()){};
  if (!sw || it == sw->legs.end() || it->second.from != &sender) {
    // A client sending on a pair this relay does not hold (the relay
    // restarted, or the pair ended and the Close was lost): the control
    // thread tells it Close, so it opens a new pair instead of sending
    // into nothing.
    if (sender.unknown_channel.exchange(channel, std::memory_order_relaxed) != channel)
      plane_.request_attention(sender, false);
    return counters_.drop(Drop::kRelayChannel);
  }
  const RelayLeg& leg = it->second;
  const size_t carried = len - RELAY_OVERHEAD;
  if (!leg.budget->bucket.take(carried, now)) {
    leg.budget->dropped_over_limit.fetch_add(1, std::memory_order_relaxed);
    return counters_.drop(Drop::kRelayOverLimit);
  }
  if (!leg.pair->bucket.take(carried, now)) {
    leg.pair->dropped_over_limit.fetch_add(1, std::memory_order_relaxed);
    return counters_.drop(Drop::kRelayOverLimit);
  }
  Peer& to = *leg.to;
  Keypair* out = to.current.load(std::memory_order_acquire);
  const UdpEndpoint ep = to.endpoint.load();
  if (!out || out->expired(now) || out->exhausted() || ep.empty()) {
    leg.pair->dropped_no_session.fetch_add(1, std::memory_order_relaxed);
    return counters_.drop(Drop::kRelayNoSession);
  }
  const uint64_t counter = out->next_counter();
  if (counter >= REKEY_AFTER_MESSAGES) return counters_.drop(Drop::kExpiredKey);
  if (!seal_relay_data(out->sealer(id_), leg.to_channel, out->remote_index, counter, msg, carried)) {
    out->return_counter(counter);
    return counters_.drop(Drop::kSealFailed);
  }
  (leg.up ? leg.pair->up_bytes : leg.pair->down_bytes).fetch_add(carried, std::memory_order_relaxed);
  (leg.up ? leg.pair->up_packets : leg.pair->down_packets).fetch_add(1, std::memory_order_relaxed);
  leg.pair->last_forward_us.store(now, std::memory_order_relaxed);
  to.tx_bytes.fetch_add(len, std::memory_order_relaxed);
  to.tx_packets.fetch_add(1, std::memory_order_relaxed);
  to.last_tx_us.store(now, std::memory_order_relaxed);
  queue_out(msg, len, ep);
}

// Forwarded messages stay in the receive buffers until sent: at the end of
// the batch, or when the queue is full.
void DataWorker::queue_out(uint8_t* msg, size_t len, const UdpEndpoint& to) {
  if (out_queued_ == SEND_SLOTS) flush_out();
  const size_t i = size_t(out_queued_++);
  out_iovs_[i] = {msg, len};
  out_addrs_[i] = to.sa;
}

void DataWorker::flush_out() {
  if (out_queued_ == 0) return;
  send_datagrams(out_iovs_.data(), out_addrs_.data(), out_queued_);
  out_queued_ = 0;
}

}  // namespace zeq
