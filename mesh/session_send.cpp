// The data messages the control thread seals itself: keepalives, in-tunnel
// control messages and cover packets. They use the peer's current session as
// the workers see it (which a worker may have just switched to a confirmed
// new one), with the control thread's own AEAD contexts.
#include <algorithm>

#include "mesh/session_manager.hpp"
#include "protocol/data_message.hpp"
#include "protocol/padding_policy.hpp"

namespace zeq {

size_t SessionManager::seal_and_send(Peer& peer, int64_t now, size_t plaintext_len, size_t padded_len,
                                     const UdpEndpoint* direct_to) {
  // Owned by current_owned or next, so alive while the control thread runs.
  Keypair* kp = peer.current.load(std::memory_order_acquire);
  UdpEndpoint ep = direct_to ? *direct_to : peer.endpoint.load();
  RelayRoute* route = direct_to ? nullptr : peer.route.load(std::memory_order_relaxed);
  if (!kp || (ep.empty() && !route) || kp->exhausted()) return 0;
  std::fill(scratch_.begin() + long(wire::DATA_OVERHEAD + plaintext_len),
            scratch_.begin() + long(wire::DATA_OVERHEAD + padded_len), 0);
  const uint64_t counter = kp->next_counter();
  auto len = seal_data_message(kp->sealer(plane_.control_slot()), kp->remote_index, clock_.zeqond(), counter,
                               scratch_.data(), padded_len);
  if (!len) {
    kp->return_counter(counter);
    plane_.control_counters().drop(Drop::kSealFailed);
    return 0;
  }
  if (!send_via(ep, route, ByteSpan(scratch_.data(), *len))) {
    plane_.control_counters().drop(Drop::kUdpSend);
    return 0;
  }
  peer.tx_bytes.fetch_add(*len, std::memory_order_relaxed);
  peer.tx_packets.fetch_add(1, std::memory_order_relaxed);
  peer.last_tx_us.store(now, std::memory_order_relaxed);
  return *len;
}

bool SessionManager::send_plaintext(Peer& peer, int64_t now, ByteSpan plaintext, const UdpEndpoint* direct_to) {
  if (plaintext.size() > MAX_CONTROL_PLAINTEXT) return false;
  auto policy = PaddingPolicy(peer.padding.load(std::memory_order_relaxed));
  const size_t mtu = size_t(plane_.mtu);
  uint8_t* plain = scratch_.data() + wire::DATA_OVERHEAD;
  if (plaintext.empty()) {
    if (!pads_keepalives(policy)) return seal_and_send(peer, now, 0, 0, direct_to) > 0;
    plain[0] = wire::PLAINTEXT_COVER;  // a keepalive in cover form: no size of its own
    return seal_and_send(peer, now, 1, padded_size(policy, 1, mtu), direct_to) > 0;
  }
  std::copy(plaintext.begin(), plaintext.end(), plain);
  return seal_and_send(peer, now, plaintext.size(), padded_size(policy, plaintext.size(), mtu), direct_to) > 0;
}

size_t SessionManager::send_cover(Peer& peer, int64_t now) {
  auto policy = PaddingPolicy(peer.padding.load(std::memory_order_relaxed));
  const size_t mtu = size_t(plane_.mtu);
  size_t size = policy_size(policy, mtu, random_.uniform(uint32_t(policy_size_count(policy, mtu))));
  uint8_t* plain = scratch_.data() + wire::DATA_OVERHEAD;
  plain[0] = wire::PLAINTEXT_COVER;
  random_.fill(std::span<uint8_t>(plain + 1, size - 1));
  return seal_and_send(peer, now, size, size);
}

void SessionManager::send_staged(Peer& peer, int64_t now) {
  std::vector<Bytes> packets = peer.staged.take();
  if (packets.empty()) return;
  auto policy = PaddingPolicy(peer.padding.load(std::memory_order_relaxed));
  const size_t mtu = size_t(plane_.mtu);
  uint8_t* plain = scratch_.data() + wire::DATA_OVERHEAD;
  uint64_t lost = 0;
  for (const Bytes& packet : packets) {
    if (packet.size() > mtu) continue;  // a worker read it with the same MTU
    std::copy(packet.begin(), packet.end(), plain);
    if (seal_and_send(peer, now, packet.size(), padded_size(policy, packet.size(), mtu)) == 0) ++lost;
  }
  if (lost) plane_.control_counters().drops[size_t(Drop::kNoSession)].fetch_add(lost, std::memory_order_relaxed);
}

}  // namespace zeq
