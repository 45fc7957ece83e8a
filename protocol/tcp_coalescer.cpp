#include "protocol/tcp_coalescer.hpp"

#include <algorithm>
#include <cstring>

#include "core/bytes.hpp"
#include "protocol/inet_checksum.hpp"

namespace zeq {
namespace {

constexpr uint8_t PROTO_TCP = 6, PROTO_UDP = 17, PROTO_ICMPV6 = 58;
constexpr uint8_t TCP_PSH = 0x08, TCP_ACK = 0x10;
constexpr size_t IPV4_HEADER_LEN = 20, IPV6_HEADER_LEN = 40, TCP_HEADER_MIN = 20;
constexpr size_t MAX_IP_LENGTH = 65535;  // also for IPv6: what a TUN write takes without jumbograms
constexpr uint16_t TCP_CHECKSUM_OFFSET = 16;

size_t address_offset(int family) { return family == 4 ? 12 : 8; }
size_t address_pair_len(int family) { return family == 4 ? 8 : 32; }

uint32_t load_native32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Cheap screen before comparing addresses and ports byte by byte.
uint32_t flow_hash(const uint8_t* packet, int family, size_t l3_len) {
  const uint8_t* a = packet + address_offset(family);
  uint32_t h = load_native32(packet + l3_len);  // both ports
  for (size_t i = 0; i < address_pair_len(family); i += 4) h = (h ^ load_native32(a + i)) * 0x9E3779B1u;
  return h;
}

bool same_addresses(const uint8_t* a, const uint8_t* b, int family) {
  size_t at = address_offset(family);
  return std::memcmp(a + at, b + at, address_pair_len(family)) == 0;
}

}  // namespace

TcpCoalescer::TcpCoalescer(int capacity)
    : capacity_(std::max(capacity, 1)),
      packets_(new Packet[size_t(capacity_)]),
      iov_(new iovec[size_t(std::min(capacity_, MAX_GROUP_PACKETS))]) {}

void TcpCoalescer::clear() {
  count_ = 0;
  open_count_ = 0;
}

// What the packet is, from its own headers; a packet that is not a
// well-formed IPv4/IPv6 packet of exactly len bytes is left as "other"
// and written by itself.
void TcpCoalescer::classify(Packet& p) const {
  const uint8_t* d = p.data;
  size_t len = p.len;
  if (len < IPV4_HEADER_LEN) return;
  int version = d[0] >> 4;
  if (version == 4) {
    size_t ihl = size_t(d[0] & 0x0F) * 4;
    if (ihl < IPV4_HEADER_LEN || ihl > len || load_be16(d + 2) != len) return;
    p.family = 4;
    p.l3_len = uint16_t(ihl);
    if (d[9] != PROTO_TCP) return;
    if ((load_be16(d + 6) & 0x3FFF) != 0) {  // MF or a fragment offset
      p.tcp_unreadable = true;
      return;
    }
  } else if (version == 6) {
    if (len < IPV6_HEADER_LEN || IPV6_HEADER_LEN + load_be16(d + 4) != len) return;
    p.family = 6;
    p.l3_len = IPV6_HEADER_LEN;
    uint8_t next = d[6];
    if (next != PROTO_TCP) {
      p.tcp_unreadable = next != PROTO_UDP && next != PROTO_ICMPV6;
      return;
    }
  } else {
    return;
  }

  size_t l3 = p.l3_len;
  if (l3 + TCP_HEADER_MIN > len) return;
  size_t tcp_header_len = size_t(d[l3 + 12] >> 4) * 4;
  if (tcp_header_len < TCP_HEADER_MIN || l3 + tcp_header_len > len) return;
  p.tcp_known = true;
  p.header_len = uint16_t(l3 + tcp_header_len);
  p.payload_len = uint32_t(len - p.header_len);
  p.flow_hash = flow_hash(d, p.family, l3);
  uint8_t flags = d[l3 + 13];
  p.push = (flags & TCP_PSH) != 0;
  // Only plain data segments: SYN, FIN, RST, URG, CWR and ECE each mean
  // something at their own place in the stream; pure ACKs carry nothing
  // to join (and the kernel reads their window and SACK one by one).
  p.joinable = (p.family == 6 || l3 == IPV4_HEADER_LEN) && (flags & ~(TCP_ACK | TCP_PSH)) == 0 &&
               (flags & TCP_ACK) != 0 && p.payload_len > 0;
}

int TcpCoalescer::find_open_group(const Packet& p) const {
  for (int slot = 0; slot < open_count_; ++slot) {
    const Packet& first = packets_[open_[slot]];
    if (first.flow_hash == p.flow_hash && first.family == p.family && same_addresses(first.data, p.data, p.family) &&
        std::memcmp(first.data + first.l3_len, p.data + p.l3_len, 4) == 0)
      return slot;
  }
  return -1;
}

// Whether the kernel, splitting first's group with p appended, would give
// back p exactly (but for the window, which the group takes from its last).
bool TcpCoalescer::can_join(const Packet& first, const Packet& p) const {
  const uint8_t* a = first.data;
  const uint8_t* b = p.data;
  if (first.family == 4) {
    // TOS, TTL, and the flags (DF; MF and the offset are 0 in both).
    if (a[1] != b[1] || a[8] != b[8] || a[6] != b[6]) return false;
    // Without DF the id matters (fragments are reassembled by it), and
    // segmenting numbers the segments first id + i.
    bool dont_fragment = (a[6] & 0x40) != 0;
    if (!dont_fragment && load_be16(b + 4) != uint16_t(load_be16(a + 4) + first.group_count)) return false;
  } else {
    if (std::memcmp(a, b, 4) != 0 || a[7] != b[7]) return false;  // traffic class, flow label, hop limit
  }
  if (first.header_len != p.header_len) return false;
  const uint8_t* ta = a + first.l3_len;
  const uint8_t* tb = b + p.l3_len;
  // ACK number, data offset, urgent pointer (meaningless without URG, but
  // segmenting copies the first's), and the options byte for byte.
  if (std::memcmp(ta + 8, tb + 8, 5) != 0 || std::memcmp(ta + 18, tb + 18, 2) != 0) return false;
  if (std::memcmp(ta + TCP_HEADER_MIN, tb + TCP_HEADER_MIN, first.header_len - first.l3_len - TCP_HEADER_MIN) != 0)
    return false;
  if (load_be32(tb + 4) != load_be32(ta + 4) + first.group_payload) return false;
  if (p.payload_len > first.payload_len) return false;
  if (first.header_len + size_t(first.group_payload) + p.payload_len > MAX_IP_LENGTH) return false;
  return first.group_count < uint32_t(std::min(capacity_, MAX_GROUP_PACKETS));
}

void TcpCoalescer::join(int first_index, int index) {
  Packet& first = packets_[first_index];
  packets_[first.last_member].next_member = index;
  first.last_member = index;
  first.group_payload += packets_[index].payload_len;
  ++first.group_count;
  packets_[index].joined = true;
}

void TcpCoalescer::open_group(int index) {
  if (open_count_ == OPEN_GROUPS) close_group(0);  // the oldest
  Packet& p = packets_[index];
  p.last_member = index;
  p.group_payload = p.payload_len;
  p.group_count = 1;
  open_[open_count_++] = index;
}

void TcpCoalescer::close_group(int slot) {
  for (int i = slot + 1; i < open_count_; ++i) open_[i - 1] = open_[i];
  --open_count_;
}

void TcpCoalescer::close_groups_of_addresses(const Packet& p) {
  for (int slot = 0; slot < open_count_;) {
    const Packet& first = packets_[open_[slot]];
    if (first.family == p.family && same_addresses(first.data, p.data, p.family))
      close_group(slot);
    else
      ++slot;
  }
}

bool TcpCoalescer::add(uint8_t* data, size_t len) {
  if (count_ >= capacity_) return false;
  int index = count_++;
  Packet& p = packets_[index];
  p = Packet{};
  p.data = data;
  p.len = len;
  classify(p);
  // A later segment of a flow must never join a group written before a
  // packet of that flow which is written by itself: groups the packet may
  // belong to end here.
  if (p.tcp_unreadable) {
    close_groups_of_addresses(p);
    return true;
  }
  if (!p.tcp_known) return true;
  int slot = find_open_group(p);
  if (slot >= 0) {
    int first = open_[slot];
    if (p.joinable && can_join(packets_[first], p)) {
      join(first, index);
      if (p.push || p.payload_len < packets_[first].payload_len) close_group(slot);
      return true;
    }
    close_group(slot);
  }
  if (p.joinable && !p.push) open_group(index);
  return true;
}

int TcpCoalescer::prepare_write(int index) {
  Packet& p = packets_[index];
  if (p.joined) return 0;
  uint8_t* vnet_at = p.data - VNET_HDR_LEN;
  iov_[0].iov_base = vnet_at;
  iov_[0].iov_len = VNET_HDR_LEN + p.len;
  if (p.group_count <= 1) {
    write_vnet_hdr(vnet_at, VirtioNetHdr{});
    return 1;
  }

  uint8_t* d = p.data;
  size_t total = p.header_len + size_t(p.group_payload);
  if (p.family == 4) {
    store_be16(d + 2, uint16_t(total));
    std::memset(d + 10, 0, 2);
    uint16_t c = uint16_t(~checksum_fold(checksum_partial(d, IPV4_HEADER_LEN)));
    std::memcpy(d + 10, &c, 2);
  } else {
    store_be16(d + 4, uint16_t(total - IPV6_HEADER_LEN));
  }
  uint8_t* tcp = d + p.l3_len;
  const Packet& last = packets_[p.last_member];
  const uint8_t* last_tcp = last.data + last.l3_len;
  tcp[13] = uint8_t((tcp[13] & ~TCP_PSH) | (last_tcp[13] & TCP_PSH));
  std::memcpy(tcp + 14, last_tcp + 14, 2);  // window: the newest
  // CHECKSUM_PARTIAL: the field holds the pseudo-header sum, not
  // complemented; the kernel adds the rest from csum_start on.
  const uint8_t* addresses = d + address_offset(p.family);
  size_t address_len = p.family == 4 ? 4 : 16;
  uint16_t pseudo = checksum_fold(
      pseudo_header_sum(p.family, addresses, addresses + address_len, PROTO_TCP, uint32_t(total - p.l3_len)));
  std::memcpy(tcp + TCP_CHECKSUM_OFFSET, &pseudo, 2);

  VirtioNetHdr vh;
  vh.flags = vnet::kNeedsCsum;
  vh.gso_type = p.family == 4 ? vnet::kGsoTcpV4 : vnet::kGsoTcpV6;
  vh.gso_size = uint16_t(p.payload_len);
  vh.hdr_len = p.header_len;
  vh.csum_start = p.l3_len;
  vh.csum_offset = TCP_CHECKSUM_OFFSET;
  write_vnet_hdr(vnet_at, vh);

  int iovcnt = 1;
  for (int m = p.next_member; m >= 0; m = packets_[m].next_member) {
    const Packet& member = packets_[m];
    iov_[iovcnt].iov_base = member.data + member.header_len;
    iov_[iovcnt].iov_len = member.payload_len;
    ++iovcnt;
  }
  return iovcnt;
}

}  // namespace zeq
