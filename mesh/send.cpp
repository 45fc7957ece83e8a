// TUN -> UDP: read a batch of IP packets from the TUN queue, pick each one's
// peer by destination address, pad, seal in place and send with sendmmsg.
#include <unistd.h>

#include <cstring>

#include "core/clock.hpp"
#include "mesh/data_worker.hpp"
#include "protocol/data_message.hpp"
#include "protocol/ip_packet.hpp"
#include "protocol/padding_policy.hpp"

namespace zeq {

int DataWorker::send_batch() {
  const int64_t now = mono_now_us();
  const uint64_t zeqond = zeqond_of(SystemClock().unix_us());
  const size_t mtu = size_t(plane_.mtu);
  const PeerTable* table = plane_.table();
  int queued = 0, read_count = 0;

  for (int i = 0; i < kBatch; ++i) {
    uint8_t* buf = buffer(queued);
    uint8_t* pkt = buf + wire::DATA_OVERHEAD;
    ssize_t n = ::read(tun_fd_, pkt, mtu);
    if (n <= 0) break;
    ++read_count;
    size_t len = size_t(n);
    int family = ip_version(ByteSpan(pkt, len));
    if ((family != 4 && family != 6) || len < (family == 4 ? 20u : 40u)) {
      counters_.drop(Drop::kMalformed);
      continue;
    }
    Peer* routed = table->lookup(family, ip_destination(pkt));
    if (!routed) {
      counters_.drop(Drop::kNoRoute);
      continue;
    }
    Peer& peer = *routed;
    Keypair* kp = peer.current.load(std::memory_order_acquire);
    if (!kp || kp->expired(now) || kp->exhausted()) {
      counters_.drop(kp ? Drop::kExpiredKey : Drop::kNoSession);
      plane_.request_attention(peer, true);
      continue;
    }
    if (kp->initiator && kp->needs_rekey(now) && !peer.wants_handshake.load(std::memory_order_relaxed))
      plane_.request_attention(peer, true);
    UdpEndpoint ep = peer.endpoint.load();
    if (ep.empty()) {
      counters_.drop(Drop::kNoEndpoint);
      continue;
    }
    uint64_t counter = kp->next_counter();
    if (counter >= REKEY_AFTER_MESSAGES) {
      counters_.drop(Drop::kExpiredKey);
      plane_.request_attention(peer, true);
      continue;
    }
    size_t padded = padded_size(PaddingPolicy(peer.padding.load(std::memory_order_relaxed)), len, mtu);
    std::memset(pkt + len, 0, padded - len);
    size_t msg_len = seal_data_message(kp->sealer(id_), kp->remote_index, zeqond, counter, buf, padded);

    addrs_[size_t(queued)] = ep.sa;
    iovs_[size_t(queued)] = {buf, msg_len};
    msgs_[size_t(queued)].msg_hdr = {};
    msgs_[size_t(queued)].msg_hdr.msg_name = &addrs_[size_t(queued)];
    msgs_[size_t(queued)].msg_hdr.msg_namelen = sizeof(sockaddr_in6);
    msgs_[size_t(queued)].msg_hdr.msg_iov = &iovs_[size_t(queued)];
    msgs_[size_t(queued)].msg_hdr.msg_iovlen = 1;
    ++queued;

    peer.tx_bytes.fetch_add(msg_len, std::memory_order_relaxed);
    peer.tx_packets.fetch_add(1, std::memory_order_relaxed);
    peer.last_tx_us.store(now, std::memory_order_relaxed);
    if (peer.first_unanswered_us.load(std::memory_order_relaxed) == 0)
      peer.first_unanswered_us.store(now, std::memory_order_relaxed);
  }

  int sent = 0;
  while (sent < queued) {
    int r = sendmmsg(socket_.fd(), msgs_.data() + sent, unsigned(queued - sent), 0);
    if (r <= 0) {
      // Skip the datagram the kernel refused (e.g. unreachable) and go on.
      counters_.drop(Drop::kUdpSend);
      ++sent;
      continue;
    }
    sent += r;
  }
  return read_count;
}

}  // namespace zeq
