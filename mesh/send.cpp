// TUN -> UDP: read a batch of IP packets from the TUN queue, pick each one's
// peer by destination address, pad, seal in place and send with sendmmsg.
#include <unistd.h>

#include <cstring>

#include "core/clock.hpp"
#include "mesh/data_worker.hpp"
#include "protocol/data_message.hpp"
#include "protocol/ip_packet.hpp"
#include "protocol/padding_policy.hpp"
#include "protocol/relay_messages.hpp"

namespace zeq {

// A relayed peer's message goes to its relay inside RelayData, tagged under
// our session with the relay (the relay's current key, our worker's
// context). The header goes in the room in front of the message.
bool DataWorker::wrap_for_relay(RelayRoute& route, uint8_t* buf, size_t msg_len, int64_t now, UdpEndpoint& to) {
  Peer& relay = *route.relay;
  Keypair* kp = relay.current.load(std::memory_order_acquire);
  if (!kp || kp->expired(now) || kp->exhausted()) {
    plane_.request_attention(relay, true);
    counters_.drop(Drop::kRelayNoSession);
    return false;
  }
  to = relay.endpoint.load();
  if (to.empty()) {
    counters_.drop(Drop::kNoEndpoint);
    return false;
  }
  const uint64_t counter = kp->next_counter();
  if (counter >= REKEY_AFTER_MESSAGES) {
    plane_.request_attention(relay, true);
    counters_.drop(Drop::kExpiredKey);
    return false;
  }
  if (!seal_relay_data(kp->sealer(id_), route.channel, kp->remote_index, counter, buf, msg_len)) {
    kp->return_counter(counter);
    counters_.drop(Drop::kSealFailed);
    return false;
  }
  relay.tx_bytes.fetch_add(RELAY_OVERHEAD + msg_len, std::memory_order_relaxed);
  relay.tx_packets.fetch_add(1, std::memory_order_relaxed);
  relay.last_tx_us.store(now, std::memory_order_relaxed);
  if (relay.first_unanswered_us.load(std::memory_order_relaxed) == 0)
    relay.first_unanswered_us.store(now, std::memory_order_relaxed);
  route.tx_bytes.fetch_add(msg_len, std::memory_order_relaxed);
  return true;
}

// The packet sits in slot `slot` after RELAY_OVERHEAD + DATA_OVERHEAD bytes
// of room. On success the slot holds the sealed message (wrapped for a
// relay when the peer is relayed) and its mmsghdr is set up.
// Per packet and called from one place: inlined, so the split costs nothing.
[[gnu::always_inline]] inline bool DataWorker::prepare_packet(const PeerTable& table, int slot, size_t len, int64_t now, uint64_t zeqond) {
  uint8_t* const outer = buffer(slot);
  uint8_t* buf = outer + RELAY_OVERHEAD;
  uint8_t* pkt = buf + wire::DATA_OVERHEAD;
  const int family = ip_version(ByteSpan(pkt, len));
  if ((family != 4 && family != 6) || len < ip_header_min(family)) {
    counters_.drop(Drop::kMalformed);
    return false;
  }
  Peer* routed = table.lookup(family, ip_destination(pkt));
  if (!routed) {
    counters_.drop(Drop::kNoRoute);
    return false;
  }
  Peer& peer = *routed;
  Keypair* kp = peer.current.load(std::memory_order_acquire);
  if (!kp || kp->expired(now) || kp->exhausted()) {
    // Held until a handshake (started now, within its retry rate) gives a
    // session: the push comes before the wake-up, so the control thread's
    // flush after it sees the packet (SessionManager::send_staged).
    if (!peer.staged.push(ByteSpan(pkt, len))) counters_.drop(Drop::kStagedFull);
    peer.last_tx_data_us.store(now, std::memory_order_relaxed);
    plane_.request_attention(peer, true);
    return false;
  }
  if (kp->initiator && kp->needs_rekey(now) && !peer.wants_handshake.load(std::memory_order_relaxed))
    plane_.request_attention(peer, true);
  RelayRoute* route = peer.route.load(std::memory_order_acquire);
  UdpEndpoint ep;
  if (!route) {
    ep = peer.endpoint.load();
    if (ep.empty()) {
      counters_.drop(Drop::kNoEndpoint);
      return false;
    }
  }
  const uint64_t counter = kp->next_counter();
  if (counter >= REKEY_AFTER_MESSAGES) {
    counters_.drop(Drop::kExpiredKey);
    plane_.request_attention(peer, true);
    return false;
  }
  const size_t mtu = size_t(plane_.mtu);
  const size_t padded = padded_size(PaddingPolicy(peer.padding.load(std::memory_order_relaxed)), len, mtu);
  std::memset(pkt + len, 0, padded - len);
  auto msg_len = seal_data_message(kp->sealer(id_), kp->remote_index, zeqond, counter, buf, padded);
  if (!msg_len) {
    kp->return_counter(counter);  // nothing went out under it
    counters_.drop(Drop::kSealFailed);
    return false;
  }

  uint8_t* wire_msg = buf;
  size_t wire_len = *msg_len;
  if (route) {
    if (!wrap_for_relay(*route, outer, *msg_len, now, ep)) return false;
    wire_msg = outer;
    wire_len += RELAY_OVERHEAD;
  }
  const size_t i = size_t(slot);
  set_datagram(msgs_[i], iovs_[i], addrs_[i], wire_msg, wire_len, ep);

  peer.tx_bytes.fetch_add(*msg_len, std::memory_order_relaxed);
  peer.tx_packets.fetch_add(1, std::memory_order_relaxed);
  peer.last_tx_us.store(now, std::memory_order_relaxed);
  peer.last_tx_data_us.store(now, std::memory_order_relaxed);
  if (peer.first_unanswered_us.load(std::memory_order_relaxed) == 0)
    peer.first_unanswered_us.store(now, std::memory_order_relaxed);
  return true;
}

void DataWorker::flush(mmsghdr* msgs, int queued) {
  int sent = 0;
  while (sent < queued) {
    int r = sendmmsg(socket_.fd(), msgs + sent, unsigned(queued - sent), 0);
    if (r <= 0) {
      // Skip the datagram the kernel refused (e.g. unreachable) and go on.
      counters_.drop(Drop::kUdpSend);
      ++sent;
      continue;
    }
    sent += r;
  }
}

int DataWorker::send_batch() {
  const int64_t now = mono_now_us();
  const uint64_t zeqond = zeqond_of(SystemClock().unix_us());
  const PeerTable& table = *plane_.table();
  int queued = 0, read_count = 0;
  for (int i = 0; i < BATCH; ++i) {
    ssize_t n = ::read(tun_fd_, buffer(queued) + RELAY_OVERHEAD + wire::DATA_OVERHEAD, size_t(plane_.mtu));
    if (n <= 0) break;
    ++read_count;
    if (prepare_packet(table, queued, size_t(n), now, zeqond)) ++queued;
  }
  if (queued > 0) flush(msgs_.data(), queued);
  return read_count;
}

}  // namespace zeq
