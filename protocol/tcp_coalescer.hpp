// Joins TCP segments of one flow, opened from one received batch, back into
// super-packets that a TUN with IFF_VNET_HDR takes in one write (the
// receive-side mirror of GsoSegmenter), so the kernel handles one skb per
// flow and batch instead of one per packet. The rules follow Linux's
// tcp_gro_receive: segments join only when the kernel could split the
// result back into exactly them.
//
// Joinable: TCP over IPv4 without options and not fragmented, or over IPv6
// with TCP as the next header; flags ACK, optionally PSH; payload > 0. A
// segment joins its flow's open group when addresses, ports, IPv4 TOS/TTL/
// DF (and, without DF, the next IP id), IPv6 first word and hop limit, ACK
// number and TCP option bytes match, its seq continues the group, its
// payload is not longer than the group's first (gso_size) and the group
// stays within 65535 bytes. A shorter segment or one with PSH ends the
// group. Any other TCP segment of the flow ends the group and is written by
// itself; so is everything that is not TCP. Order within a flow is kept;
// flows may overtake each other.
//
// Members' TCP checksums are not verified: the AEAD already authenticated
// each packet, and the peer could as well have sent correct checksums over
// wrong data (wireguard-go does the same). The super-packet goes to the
// kernel as CHECKSUM_PARTIAL, which then checksums it as a whole.
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "protocol/virtio_net_hdr.hpp"

namespace zeq {

class TcpCoalescer {
 public:
  // The most members one write may have: writev's limit (UIO_MAXIOV).
  static constexpr int MAX_GROUP_PACKETS = 1024;
  // Flows with an open group at once; interleaved flows beyond that still
  // work, they only coalesce less.
  static constexpr int OPEN_GROUPS = 8;

  // capacity: the most packets per batch (at least 1). Allocates once.
  explicit TcpCoalescer(int capacity);
  void clear();
  int size() const { return count_; }
  int capacity() const { return capacity_; }

  // Offers an IP packet (already authenticated and checked by the caller)
  // at data, len bytes. The VNET_HDR_LEN bytes before data must be
  // writable: flush() writes the packet's virtio-net header there. The
  // packet must stay in place until flush(), which may rewrite its headers.
  // Packets are kept in offer order. False when capacity is full (the
  // caller then flushes and offers again).
  bool add(uint8_t* data, size_t len);

  // Emits the writes for everything offered, then clears. For each write
  // calls sink(const iovec* iov, int iovcnt): iov[0] starts VNET_HDR_LEN
  // bytes before a packet's data and covers header + that whole (possibly
  // rewritten) packet; further iovecs are the TCP payloads of the segments
  // joined to it. Writes come in the order of their first packet. The iovec
  // array is only valid during the call.
  template <class Sink>
  void flush(Sink&& sink) {
    for (int i = 0; i < count_; ++i) {
      int iovcnt = prepare_write(i);
      if (iovcnt > 0) sink(static_cast<const iovec*>(iov_.get()), iovcnt);
    }
    clear();
  }

 private:
  struct Packet {
    uint8_t* data = nullptr;
    size_t len = 0;
    uint32_t payload_len = 0;  // TCP payload, when tcp_known
    uint16_t l3_len = 0;       // IP header (20 or 40 when joinable)
    uint16_t header_len = 0;   // IP + TCP header
    uint32_t flow_hash = 0;
    uint8_t family = 0;
    bool tcp_known = false;  // TCP with ports we could read
    // Perhaps TCP, but its ports cannot be read (an IPv4 fragment, IPv6
    // extension headers): it ends every group between its addresses.
    bool tcp_unreadable = false;
    bool push = false;       // TCP PSH
    bool joinable = false;   // may be a group's member or first packet
    bool joined = false;     // a member of an earlier packet's group: written with it
    int32_t next_member = -1;
    // Group state, on the group's first packet.
    int32_t last_member = -1;
    uint32_t group_payload = 0;
    uint32_t group_count = 1;
  };

  void classify(Packet& p) const;
  int find_open_group(const Packet& p) const;
  bool can_join(const Packet& first, const Packet& p) const;
  void join(int first, int index);
  void open_group(int index);
  void close_group(int slot);
  void close_groups_of_addresses(const Packet& p);
  int prepare_write(int index);

  int capacity_;
  int count_ = 0;
  std::unique_ptr<Packet[]> packets_;
  std::unique_ptr<iovec[]> iov_;
  std::array<int32_t, OPEN_GROUPS> open_{};  // first packets, oldest first
  int open_count_ = 0;
};

}  // namespace zeq
