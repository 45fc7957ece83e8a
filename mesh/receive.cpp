// UDP -> TUN: receive a batch with recvmmsg, open data messages in place,
// check the replay window and allowed_ips, and write the inner packets to the
// TUN queue. Handshake messages that pass mac1 and the handshake guard, and
// cookie replies for a handshake of ours in flight, go to the control thread.
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/clock.hpp"
#include "mesh/data_worker.hpp"
#include "protocol/cookie.hpp"
#include "protocol/data_message.hpp"
#include "protocol/handshake_messages.hpp"
#include "protocol/ip_packet.hpp"
#include "protocol/relay_messages.hpp"
#include "protocol/virtio_net_hdr.hpp"

namespace zeq {

int DataWorker::receive_batch() {
  for (int i = 0; i < recv_slots_; ++i) {
    iovs_[size_t(i)] = {recv_buffer(i), recv_size_};
    auto& hdr = msgs_[size_t(i)].msg_hdr;
    hdr = {};
    hdr.msg_name = &addrs_[size_t(i)];
    hdr.msg_namelen = sizeof(sockaddr_in6);
    hdr.msg_iov = &iovs_[size_t(i)];
    hdr.msg_iovlen = 1;
    if (udp_gro_) {
      hdr.msg_control = recv_cmsgs_[size_t(i)].data();
      hdr.msg_controllen = recv_cmsgs_[size_t(i)].size();
    }
  }
  int n = recvmmsg(socket_.fd(), msgs_.data(), unsigned(recv_slots_), MSG_DONTWAIT, nullptr);
  if (n <= 0) return 0;
  const int64_t now = mono_now_us();
  const PeerTable& table = *plane_.table();

  int datagrams = 0;
  for (int i = 0; i < n; ++i) {
    auto& hdr = msgs_[size_t(i)].msg_hdr;
    const size_t len = msgs_[size_t(i)].msg_len;
    uint8_t* buf = recv_buffer(i);
    if ((hdr.msg_flags & MSG_TRUNC) || len == 0) {
      counters_.drop(Drop::kMalformed);
      continue;
    }
    const UdpEndpoint from = endpoint_from_sockaddr(reinterpret_cast<const sockaddr*>(hdr.msg_name), hdr.msg_namelen);
    // With GRO, the buffer holds datagrams of `size` bytes back to back
    // (the last may be shorter).
    size_t size = len;
    if (udp_gro_)
      for (cmsghdr* c = CMSG_FIRSTHDR(&hdr); c; c = CMSG_NXTHDR(&hdr, c))
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
          int segment = 0;
          std::memcpy(&segment, CMSG_DATA(c), sizeof segment);
          if (segment > 0 && size_t(segment) < len) size = size_t(segment);
        }
    if (size < len) {
      counters_.count(Offload::kUdpGroBuffers);
      counters_.count(Offload::kUdpGroDatagrams, (len + size - 1) / size);
    }
    for (size_t off = 0; off < len; off += size, ++datagrams)
      receive_datagram(table, buf + off, std::min(size, len - off), from, now);
  }
  if (tun_vnet_) flush_tun_writes();
  flush_out();
  flush_rx_tally(now);
  return datagrams;
}

void DataWorker::receive_datagram(const PeerTable& table, uint8_t* msg, size_t len, const UdpEndpoint& from,
                                  int64_t now) {
  switch (msg[0]) {
    case wire::kData:
      return receive_data(table, msg, len, from, now);
    case wire::kHandshakeInit:
    case wire::kHandshakeResponse:
      return receive_handshake(msg, len, from, now);
    case wire::kCookieReply:
      return receive_cookie_reply(msg, len, from, now);
    case RELAY_DATA_TYPE:
      return receive_relayed(table, msg, len, from, now);
    default:
      return counters_.drop(Drop::kMalformed);
  }
}

void DataWorker::flush_tun_writes() {
  coalescer_.flush([this](const iovec* iov, int iovcnt) {
    if (iovcnt > 1) {
      counters_.count(Offload::kTunCoalesced);
      counters_.count(Offload::kTunJoined, uint64_t(iovcnt));
    }
    if (::writev(tun_fd_, iov, iovcnt) < 0) counters_.drop(Drop::kTunWrite);
  });
}

void DataWorker::flush_rx_tally(int64_t now) {
  Peer* peer = std::exchange(rx_tally_.peer, nullptr);
  if (!peer) return;
  peer->rx_bytes.fetch_add(rx_tally_.bytes, std::memory_order_relaxed);
  peer->rx_packets.fetch_add(rx_tally_.packets, std::memory_order_relaxed);
  rx_tally_.bytes = rx_tally_.packets = 0;
  peer->last_rx_us.store(now, std::memory_order_relaxed);
  if (peer->first_unanswered_us.load(std::memory_order_relaxed) != 0)
    peer->first_unanswered_us.store(0, std::memory_order_relaxed);
}

// mac1, then the handshake guard (cookies and rate limits while under
// load), then the control thread gets the message without mac2.
void DataWorker::receive_handshake(uint8_t* msg, size_t len, const UdpEndpoint& from, int64_t now, RelayRoute* via) {
  if (mac2_presence(ByteSpan(msg, len)) == Mac2Presence::kBadSize) return counters_.drop(Drop::kMalformed);
  const size_t base = handshake_base_size(ByteSpan(msg, len));
  if (!verify_mac1(plane_.own_mac1_key, ByteSpan(msg, base))) return counters_.drop(Drop::kHandshakeMac1);
  if (via) {
    // Relayed: the hop was authenticated (a member's relay sent it on a
    // channel we accepted), and a cookie reply could not go back by the
    // relay's address anyway; the control queue's bound still holds.
    if (!plane_.inbox->deliver_handshake(id_, ByteSpan(msg, base), from, via->id)) counters_.drop(Drop::kControlQueue);
    return;
  }
  std::array<uint8_t, wire::COOKIE_REPLY_SIZE> reply;
  switch (plane_.handshake_guard->check(ByteSpan(msg, len), from, plane_.inbox->queued(), now, reply)) {
    case HandshakeGuard::Verdict::kPass:
      if (!plane_.inbox->deliver_handshake(id_, ByteSpan(msg, base), from)) counters_.drop(Drop::kControlQueue);
      return;
    case HandshakeGuard::Verdict::kCookieReply:
      counters_.drop(Drop::kHandshakeCookie);
      if (!socket_.send_to(reply.data(), reply.size(), from)) counters_.drop(Drop::kUdpSend);
      return;
    case HandshakeGuard::Verdict::kUnanswered:
      return counters_.drop(Drop::kHandshakeUnderLoad);
    case HandshakeGuard::Verdict::kRateLimited:
      return counters_.drop(Drop::kHandshakeRateLimited);
    case HandshakeGuard::Verdict::kFailed:
      return counters_.drop(Drop::kSealFailed);
  }
}

// A cookie reply needs no mac1, so anyone can send one. The control thread
// opens it against the mac1 it last sent that peer; it gets only replies
// whose receiver index is a handshake of ours in flight: an initiation's
// index, reserved but not yet published, or a responder session published
// and not yet confirmed. Anything else is dropped here in O(1) without a
// lock, so junk replies cannot fill the control queue that real handshakes
// share. Those that pass still have a budget per Zeqond, against a sender
// who saw our indices on the path.
void DataWorker::receive_cookie_reply(const uint8_t* msg, size_t len, const UdpEndpoint& from, int64_t now,
                                      RelayRoute* via) {
  if (len != wire::COOKIE_REPLY_SIZE) return counters_.drop(Drop::kMalformed);
  const uint32_t index = cookie_reply_receiver(ByteSpan(msg, len));
  const Keypair* kp = plane_.index.lookup(index);
  const bool in_flight = kp ? !kp->received_any.load(std::memory_order_relaxed) : plane_.index.reserved(index);
  if (!in_flight) return counters_.drop(Drop::kCookieReplyUnexpected);
  if (!plane_.handshake_guard->admit_received_cookie_reply(now)) return counters_.drop(Drop::kCookieReplyOverBudget);
  if (!plane_.inbox->deliver_handshake(id_, ByteSpan(msg, len), from, via ? via->id : 0)) counters_.drop(Drop::kControlQueue);
}

// An IP packet: trimmed to its header's length, and only from a source
// address the sending peer owns (cryptokey routing, inbound).
[[gnu::always_inline]] inline void DataWorker::deliver_ip(const PeerTable& table, Peer& peer, uint8_t* plain, size_t plain_len, int64_t now) {
  size_t ip_len = ip_packet_length(ByteSpan(plain, plain_len));
  if (ip_len == 0) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  if (plane_.relay_role) {  // nothing to deliver to: a relay has no interface
    counters_.drop(Drop::kRelayUnexpected);
    return;
  }
  if (table.lookup(plain[0] >> 4, ip_source(plain)) != &peer) {
    counters_.drop(Drop::kAllowedIps);
    return;
  }
  peer.last_rx_data_us.store(now, std::memory_order_relaxed);
  if (!tun_vnet_) {
    if (::write(tun_fd_, plain, ip_len) != ssize_t(ip_len)) counters_.drop(Drop::kTunWrite);
    return;
  }
  // Written at the end of the batch, TCP segments of a flow joined; the
  // coalescer puts the virtio-net header in the room in front of the packet
  // (the zeqvpn header, already read).
  static_assert(wire::DATA_OVERHEAD >= VNET_HDR_LEN);
  if (!coalescer_.add(plain, ip_len)) {
    flush_tun_writes();
    (void)coalescer_.add(plain, ip_len);
  }
}

// Cover packets are counted and dropped; control messages go to the control
// thread.
[[gnu::always_inline]] inline void DataWorker::deliver_other(Peer& peer, const uint8_t* plain, size_t plain_len, size_t msg_len) {
  if (plain[0] == wire::PLAINTEXT_COVER) {
    counters_.count(Received::kCover);
    peer.cover_rx_packets.fetch_add(1, std::memory_order_relaxed);
    peer.cover_rx_bytes.fetch_add(msg_len, std::memory_order_relaxed);
  } else if (plain[0] == wire::PLAINTEXT_CONTROL) {
    counters_.count(Received::kControl);
    if (!plane_.inbox->deliver_control(id_, peer.serial, ByteSpan(plain, plain_len))) counters_.drop(Drop::kControlQueue);
  } else {
    counters_.drop(Drop::kMalformed);
  }
}

void DataWorker::note_authenticated(Peer& peer, Keypair& kp, size_t len, int64_t now) {
  tally_rx(peer, len, now);
  if (!kp.received_any.load(std::memory_order_relaxed)) {
    // Key confirmation. A new responder session becomes current here, before
    // this packet reaches the TUN, so whatever the kernel answers goes out
    // under it; the control thread catches up with the ownership later.
    // seq_cst with request_attention's exchange and on_attention's store and
    // load: either the control thread sees this flag or it gets a wake-up.
    kp.received_any.store(true, std::memory_order_seq_cst);
    bool switched = peer.confirm(&kp);
    if (switched || peer.current.load(std::memory_order_relaxed) != &kp) plane_.request_attention(peer, false);
  }
}

// Roaming: an authenticated message from a new address moves the endpoint;
// one by another way than the route in use (a relay, or directly) asks the
// control thread to follow it (SessionManager::follow_arrival).
void DataWorker::note_arrival(Peer& peer, const UdpEndpoint& from, RelayRoute* via, size_t len) {
  uint64_t by = 0;
  if (via) {
    via->rx_bytes.fetch_add(len, std::memory_order_relaxed);
    by = via->id;
  } else if (!(peer.endpoint.load() == from)) {
    peer.endpoint.store(from);
  }
  if (peer.arrived_by.load(std::memory_order_relaxed) != by) {
    peer.arrived_by.store(by, std::memory_order_relaxed);
    plane_.request_attention(peer, false);
  }
}

void DataWorker::receive_data(const PeerTable& table, uint8_t* msg, size_t len, const UdpEndpoint& from, int64_t now,
                              RelayRoute* via) {
  DataHeader h;
  if (!parse_data_header(ByteSpan(msg, len), h)) {
    counters_.drop(Drop::kMalformed);
    return;
  }
  Keypair* kp = plane_.index.lookup(h.receiver_index);
  if (!kp) {
    counters_.drop(Drop::kUnknownIndex);
    return;
  }
  if (kp->expired(now)) {
    counters_.drop(Drop::kExpiredKey);
    return;
  }
  // A relay's channel carries one peer's messages: another's on it is the
  // relay (or a member behind it) misrouting, never a reason to move, and
  // it must not use up a counter of that peer's window.
  if (via && via->peer != kp->peer) return counters_.drop(Drop::kRelayChannel);
  // Cheap check first, so replayed floods cost no AEAD work.
  if (!kp->replay_may_accept(h.counter)) {
    counters_.drop(Drop::kReplay);
    return;
  }
  if (!open_data_message(kp->opener(id_), msg, len)) {
    counters_.drop(Drop::kBadTag);
    return;
  }
  if (!kp->replay_accept(h.counter)) {
    counters_.drop(Drop::kReplay);
    return;
  }

  Peer& peer = *kp->peer;
  note_authenticated(peer, *kp, len, now);
  note_arrival(peer, from, via, len);

  uint8_t* plain = msg + wire::DATA_OVERHEAD;
  size_t plain_len = len - wire::DATA_OVERHEAD;
  if (plain_len == 0) {
    counters_.count(Received::kKeepalive);
    return;
  }
  const int version = plain[0] >> 4;
  if (version == 4 || version == 6) {
    deliver_ip(table, peer, plain, plain_len, now);
  } else {
    deliver_other(peer, plain, plain_len, len);
  }
}

}  // namespace zeq
