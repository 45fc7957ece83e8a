#include "protocol/gso_segmenter.hpp"

#include <cstring>

#include "core/bytes.hpp"
#include "protocol/inet_checksum.hpp"

namespace zeq {
namespace {

constexpr uint8_t IPPROTO_TCP_NUMBER = 6, IPPROTO_UDP_NUMBER = 17;
constexpr uint8_t IPV6_HOP_BY_HOP = 0, IPV6_ROUTING = 43, IPV6_DESTINATION_OPTIONS = 60;
constexpr uint8_t TCP_FIN = 0x01, TCP_PSH = 0x08, TCP_CWR = 0x80;
constexpr size_t TCP_HEADER_MIN = 20, UDP_HEADER_LEN = 8, IPV6_HEADER_LEN = 40;

// The IP header's own length agrees with len: a TUN read returns exactly
// one packet, so anything else is a packet we do not understand.
bool ip_length_matches(const uint8_t* p, size_t len, int& family) {
  if (len < 1) return false;
  family = p[0] >> 4;
  if (family == 4) {
    size_t ihl = size_t(p[0] & 0x0F) * 4;
    return len >= 20 && ihl >= 20 && ihl <= len && load_be16(p + 2) == len;
  }
  if (family == 6) return len >= IPV6_HEADER_LEN && IPV6_HEADER_LEN + load_be16(p + 4) == len;
  return false;
}

// Where the L4 header starts and which protocol it is, for a packet that
// ip_length_matches() accepted. IPv4: after the options; a fragment is
// refused (TSO/USO packets never are). IPv6: the extension headers a host's
// own TCP/UDP may carry are walked (hop-by-hop, only first; routing, only
// with segments left 0, because otherwise the pseudo-header's destination
// is the routing header's final address, not the IP destination;
// destination options). Anything else (fragment, AH, ESP, mobility, ...)
// is refused: a GSO packet carrying it is not one we can segment.
bool find_l4(const uint8_t* p, size_t len, int family, size_t& l4_at, uint8_t& protocol) {
  if (family == 4) {
    if ((load_be16(p + 6) & 0x3FFF) != 0) return false;  // MF or a fragment offset
    l4_at = size_t(p[0] & 0x0F) * 4;
    protocol = p[9];
    return true;
  }
  uint8_t next = p[6];
  size_t at = IPV6_HEADER_LEN;
  while (next == IPV6_HOP_BY_HOP || next == IPV6_ROUTING || next == IPV6_DESTINATION_OPTIONS) {
    if (at + 8 > len) return false;
    if (next == IPV6_HOP_BY_HOP && at != IPV6_HEADER_LEN) return false;
    if (next == IPV6_ROUTING && p[at + 3] != 0) return false;
    next = p[at];
    at += (size_t(p[at + 1]) + 1) * 8;  // each step moves on by 8 or more: the walk ends
  }
  if (at > len) return false;
  l4_at = at;
  protocol = next;
  return true;
}

void store_checksum(uint8_t* field, uint16_t value) { std::memcpy(field, &value, 2); }

}  // namespace

bool GsoSegmenter::reset(const VirtioNetHdr& vh, const uint8_t* packet, size_t len) {
  segments_ = 0;
  next_index_ = 0;
  packet_ = packet;
  len_ = len;
  if (packet == nullptr || !ip_length_matches(packet, len, family_)) return false;
  // A checksum to complete that starts inside the IP header (the kernel
  // puts csum_start at the L4 header) or lies outside the packet: the
  // header and packet disagree.
  bool needs_csum = (vh.flags & vnet::kNeedsCsum) != 0;
  size_t ip_header_len = family_ == 4 ? size_t(packet[0] & 0x0F) * 4 : IPV6_HEADER_LEN;
  if (needs_csum && (vh.csum_start < ip_header_len || size_t(vh.csum_start) + vh.csum_offset + 2 > len)) return false;

  uint8_t gso_type = vh.gso_type & uint8_t(~vnet::kGsoEcn);
  if (gso_type == vnet::kGsoNone) {
    kind_ = Kind::kWhole;
    complete_checksum_ = needs_csum;
    csum_start_ = vh.csum_start;
    csum_offset_ = vh.csum_offset;
    l3_len_ = header_len_ = 0;
    gso_size_ = len;
    segments_ = 1;
    return true;
  }

  uint8_t protocol = 0;
  if (gso_type == vnet::kGsoTcpV4 || gso_type == vnet::kGsoTcpV6) {
    kind_ = Kind::kTcp;
    protocol = IPPROTO_TCP_NUMBER;
    if (family_ != (gso_type == vnet::kGsoTcpV4 ? 4 : 6)) return false;
  } else if (gso_type == vnet::kGsoUdpL4) {
    kind_ = Kind::kUdp;
    protocol = IPPROTO_UDP_NUMBER;
  } else {
    return false;  // UFO (kGsoUdp) or unknown
  }
  if (vh.gso_size == 0) return false;

  uint8_t found = 0;
  if (!find_l4(packet, len, family_, l3_len_, found) || found != protocol) return false;
  size_t l4_header_len = UDP_HEADER_LEN;
  if (kind_ == Kind::kTcp) {
    if (l3_len_ + TCP_HEADER_MIN > len) return false;
    l4_header_len = size_t(packet[l3_len_ + 12] >> 4) * 4;
    if (l4_header_len < TCP_HEADER_MIN) return false;
  }
  header_len_ = l3_len_ + l4_header_len;
  if (header_len_ > len) return false;

  size_t payload = len - header_len_;
  gso_size_ = vh.gso_size;
  segments_ = payload <= gso_size_ ? 1 : int((payload + gso_size_ - 1) / gso_size_);
  complete_checksum_ = false;
  return true;
}

size_t GsoSegmenter::max_segment_size() const {
  if (segments_ == 0) return 0;
  if (segments_ == 1) return len_;
  return header_len_ + gso_size_;
}

size_t GsoSegmenter::next(uint8_t* out, size_t room) {
  if (next_index_ >= segments_ || out == nullptr) return 0;
  size_t written;
  if (kind_ == Kind::kWhole) {
    if (room < len_) return 0;
    written = write_whole(out);
  } else {
    size_t payload_at = header_len_ + size_t(next_index_) * gso_size_;
    size_t payload_len = len_ - payload_at < gso_size_ ? len_ - payload_at : gso_size_;
    if (room < header_len_ + payload_len) return 0;
    written = write_segment(out, payload_at, payload_len, next_index_ + 1 == segments_);
  }
  ++next_index_;
  return written;
}

size_t GsoSegmenter::write_whole(uint8_t* out) const {
  std::memcpy(out, packet_, len_);
  if (complete_checksum_) {
    // The field holds the pseudo-header sum the kernel put there, so the sum
    // from csum_start to the end is the whole checksum. 0 becomes 0xFFFF as
    // in the kernel's skb_checksum_help (UDP's "no checksum" is 0; for TCP
    // both mean the same).
    uint16_t c = uint16_t(~checksum_fold(checksum_partial(out + csum_start_, len_ - csum_start_)));
    store_checksum(out + csum_start_ + csum_offset_, c == 0 ? 0xFFFF : c);
  }
  return len_;
}

size_t GsoSegmenter::write_segment(uint8_t* out, size_t payload_at, size_t payload_len, bool last) const {
  size_t seg_len = header_len_ + payload_len;
  std::memcpy(out, packet_, header_len_);
  std::memcpy(out + header_len_, packet_ + payload_at, payload_len);
  // Segment number i starts at payload offset i * gso_size.
  uint32_t index = uint32_t(next_index_);

  const uint8_t *src, *dst;
  if (family_ == 4) {
    size_t ihl = size_t(out[0] & 0x0F) * 4;
    store_be16(out + 2, uint16_t(seg_len));
    store_be16(out + 4, uint16_t(load_be16(out + 4) + index));  // as the kernel's GSO numbers them
    store_checksum(out + 10, 0);
    store_checksum(out + 10, uint16_t(~checksum_fold(checksum_partial(out, ihl))));
    src = out + 12, dst = out + 16;
  } else {
    store_be16(out + 4, uint16_t(seg_len - IPV6_HEADER_LEN));
    src = out + 8, dst = out + 24;
  }

  uint8_t* l4 = out + l3_len_;
  size_t l4_len = seg_len - l3_len_;
  uint8_t* checksum_field;
  uint8_t protocol;
  if (kind_ == Kind::kTcp) {
    store_be32(l4 + 4, load_be32(l4 + 4) + index * uint32_t(gso_size_));
    // FIN and PSH belong to the end of the data, CWR to its start (as
    // tcp_gso_segment sets them).
    uint8_t flags = l4[13];
    if (!last) flags &= uint8_t(~(TCP_FIN | TCP_PSH));
    if (index != 0) flags &= uint8_t(~TCP_CWR);
    l4[13] = flags;
    checksum_field = l4 + 16;
    protocol = IPPROTO_TCP_NUMBER;
  } else {
    store_be16(l4 + 4, uint16_t(l4_len));
    checksum_field = l4 + 6;
    protocol = IPPROTO_UDP_NUMBER;
  }
  store_checksum(checksum_field, 0);
  uint32_t sum = pseudo_header_sum(family_, src, dst, protocol, uint32_t(l4_len));
  uint16_t c = uint16_t(~checksum_fold(checksum_partial(l4, l4_len, sum)));
  if (c == 0 && kind_ == Kind::kUdp) c = 0xFFFF;  // UDP's 0 means "no checksum"
  store_checksum(checksum_field, c);
  return seg_len;
}

}  // namespace zeq
