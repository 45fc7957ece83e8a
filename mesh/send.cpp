// TUN -> UDP: read a batch of IP packets from the TUN queue (with offloads:
// super-packets, split into packets here), pick each one's peer by
// destination address, pad, seal in place and send the batch
// (udp_batch.cpp).
#include <unistd.h>

#include <cstring>
#include <utility>

#include "core/clock.hpp"
#include "mesh/data_worker.hpp"
#include "protocol/data_message.hpp"
#include "protocol/icmp_too_big.hpp"
#include "protocol/virtio_net_hdr.hpp"
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
// relay when the peer is relayed) and its iovec and address are set.
// Per packet and called from one place: inlined, so the split costs nothing.
[[gnu::always_inline]] inline bool DataWorker::prepare_packet(const PeerTable& table, int slot, size_t len, int64_t now, uint64_t zeqond) {
  uint8_t* const outer = send_slot(slot);
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
  const size_t mtu = size_t(plane_.mtu);
  // Through a relay a packet may not be fragmented only up to the relayed
  // path's MTU; a longer one is answered, not sent.
  if (route && len > plane_.relayed_mtu && needs_too_big_answer(pkt, len, plane_.relayed_mtu)) {
    answer_too_big(pkt, len, plane_.relayed_mtu, now);
    return false;
  }
  const uint64_t counter = kp->next_counter();
  if (counter >= REKEY_AFTER_MESSAGES) {
    counters_.drop(Drop::kExpiredKey);
    plane_.request_attention(peer, true);
    return false;
  }
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
  send_iovs_[size_t(slot)] = {wire_msg, wire_len};
  send_addrs_[size_t(slot)] = ep.sa;
  tally_tx(peer, *msg_len, now);
  return true;
}

void DataWorker::answer_too_big(const uint8_t* pkt, size_t len, size_t path_mtu, int64_t now) {
  counters_.drop(Drop::kTooBig);
  if (!too_big_budget_.take(1, now)) return;
  // The answer goes after room for the virtio-net header (zero: a plain
  // packet) when the TUN carries one.
  uint8_t* out = too_big_buf_.data() + VNET_HDR_LEN;
  const size_t n = build_too_big(pkt, len, uint32_t(path_mtu), out, ICMP_TOO_BIG_ROOM);
  if (n == 0) return;
  const uint8_t* write_from = out;
  size_t write_len = n;
  if (tun_vnet_) {
    write_vnet_hdr(too_big_buf_.data(), VirtioNetHdr{});
    write_from = too_big_buf_.data();
    write_len += VNET_HDR_LEN;
  }
  if (::write(tun_fd_, write_from, write_len) != ssize_t(write_len)) counters_.drop(Drop::kTunWrite);
}

void DataWorker::flush_tx_tally(int64_t now) {
  Peer* peer = std::exchange(tx_tally_.peer, nullptr);
  if (!peer) return;
  peer->tx_bytes.fetch_add(tx_tally_.bytes, std::memory_order_relaxed);
  peer->tx_packets.fetch_add(tx_tally_.packets, std::memory_order_relaxed);
  tx_tally_.bytes = tx_tally_.packets = 0;
  peer->last_tx_us.store(now, std::memory_order_relaxed);
  peer->last_tx_data_us.store(now, std::memory_order_relaxed);
  if (peer->first_unanswered_us.load(std::memory_order_relaxed) == 0)
    peer->first_unanswered_us.store(now, std::memory_order_relaxed);
}

// One packet per read, straight into its slot.
int DataWorker::read_plain(const PeerTable& table, int64_t now, uint64_t zeqond) {
  int queued = 0, read_count = 0;
  for (int i = 0; i < BATCH; ++i) {
    ssize_t n = ::read(tun_fd_, send_slot(queued) + RELAY_OVERHEAD + wire::DATA_OVERHEAD, size_t(plane_.mtu));
    if (n <= 0) break;
    ++read_count;
    if (prepare_packet(table, queued, size_t(n), now, zeqond)) ++queued;
  }
  if (queued > 0) send_datagrams(send_iovs_.data(), send_addrs_.data(), queued);
  return read_count;
}

// A virtio-net header, then a packet or a super-packet of up to 64 KB that
// is split into slots; the slots go out whenever they run short.
int DataWorker::read_offloaded(const PeerTable& table, int64_t now, uint64_t zeqond) {
  const size_t mtu = size_t(plane_.mtu);
  int queued = 0, read_count = 0;
  for (int i = 0; i < BATCH; ++i) {
    ssize_t n = ::read(tun_fd_, tun_read_.data(), tun_read_.size());
    if (n <= 0) break;
    ++read_count;
    if (size_t(n) < VNET_HDR_LEN ||
        !segmenter_.reset(read_vnet_hdr(tun_read_.data()), tun_read_.data() + VNET_HDR_LEN, size_t(n) - VNET_HDR_LEN) ||
        segmenter_.max_segment_size() > mtu) {
      counters_.drop(Drop::kMalformed);
      continue;
    }
    if (const int segments = segmenter_.segments(); segments > 1) {
      counters_.count(Offload::kTunSuperPackets);
      counters_.count(Offload::kTunSegments, uint64_t(segments));
    }
    while (size_t len = segmenter_.next(send_slot(queued) + RELAY_OVERHEAD + wire::DATA_OVERHEAD, mtu)) {
      if (prepare_packet(table, queued, len, now, zeqond) && ++queued == SEND_SLOTS) {
        send_datagrams(send_iovs_.data(), send_addrs_.data(), queued);
        queued = 0;
      }
    }
  }
  if (queued > 0) send_datagrams(send_iovs_.data(), send_addrs_.data(), queued);
  return read_count;
}

int DataWorker::send_batch() {
  const int64_t now = mono_now_us();
  const uint64_t zeqond = zeqond_of(SystemClock().unix_us());
  const PeerTable& table = *plane_.table();
  const int read_count = tun_vnet_ ? read_offloaded(table, now, zeqond) : read_plain(table, now, zeqond);
  flush_tx_tally(now);
  return read_count;
}

}  // namespace zeq
