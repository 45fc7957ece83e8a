#include "protocol/icmp_too_big.hpp"

#include "protocol/inet_checksum.hpp"

#include <algorithm>
#include <cstring>

namespace zeq {

namespace {

constexpr uint8_t PROTO_ICMP = 1, PROTO_ICMPV6 = 58;
constexpr uint8_t V6_HOP_BY_HOP = 0, V6_ROUTING = 43, V6_FRAGMENT = 44, V6_AUTH = 51, V6_DEST_OPTS = 60;
constexpr size_t V4_HEADER = 20, V6_HEADER = 40, ICMP_HEADER = 8;
// The quote always holds the packet's IP header and at least this much of
// what follows (RFC 792: "the internet header plus the first 64 bits").
constexpr size_t QUOTE_AFTER_HEADER = 8;
// Extension headers walked before giving up on finding the upper layer.
constexpr int V6_MAX_EXTENSIONS = 16;

uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
void put16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

// Stores the checksum of a running sum (inet_checksum.hpp: memory order).
void put_checksum(uint8_t* p, uint32_t sum) {
  const uint16_t c = uint16_t(~checksum_fold(sum));
  std::memcpy(p, &c, sizeof c);
}

// The lengths an IPv4 header claims, checked against the bytes there are.
struct V4Lengths {
  size_t header = 0, total = 0;
};
bool parse_v4(const uint8_t* p, size_t len, V4Lengths& out) {
  if (len < V4_HEADER || (p[0] >> 4) != 4) return false;
  out.header = size_t(p[0] & 0x0f) * 4;
  out.total = be16(p + 2);
  return out.header >= V4_HEADER && out.total >= out.header && out.total <= len;
}

// IPv6 without jumbograms (payload length 0), which no TUN of ours carries.
bool parse_v6(const uint8_t* p, size_t len, size_t& total) {
  if (len < V6_HEADER || (p[0] >> 4) != 6) return false;
  size_t payload = be16(p + 4);
  total = V6_HEADER + payload;
  return payload != 0 && total <= len;
}

// An address that names one host, as the source of a packet we answer and
// of the answer itself must (RFC 1122 3.2.2, RFC 1812 4.3.2.7): not "this
// network" 0/8, loopback, multicast, class E or broadcast.
bool v4_one_host(const uint8_t* a) { return a[0] != 0 && a[0] != 127 && a[0] < 224; }

bool v4_is_icmp_error(uint8_t type) {
  // Destination unreachable, source quench, redirect, time exceeded,
  // parameter problem; a type we do not know counts as an error, as in Linux.
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12 || type > 18;
}

bool v4_needs_answer(const uint8_t* p, size_t len, size_t mtu) {
  V4Lengths l;
  if (!parse_v4(p, len, l) || l.total <= mtu) return false;
  const uint16_t frag = be16(p + 6);
  if (!(frag & 0x4000) || (frag & 0x1fff) != 0) return false;  // DF clear, or not the first fragment
  if (!v4_one_host(p + 12) || !v4_one_host(p + 16)) return false;
  if (p[9] == PROTO_ICMP) {
    if (l.total < l.header + 1) return false;
    return !v4_is_icmp_error(p[l.header]);
  }
  return true;
}

// Not :: or ::1, not multicast (ff00::/8).
bool v6_one_host(const uint8_t* a) {
  if (a[0] == 0xff) return false;
  static const uint8_t zeros[15] = {};
  return !(std::memcmp(a, zeros, 15) == 0 && (a[15] == 0 || a[15] == 1));
}

bool v6_needs_answer(const uint8_t* p, size_t len, size_t mtu) {
  size_t total;
  if (!parse_v6(p, len, total) || total <= mtu) return false;
  if (!v6_one_host(p + 8) || !v6_one_host(p + 24)) return false;
  // Past the extension headers to the upper layer: an ICMPv6 error
  // (types below 128) and a later fragment are never answered.
  uint8_t next = p[6];
  size_t off = V6_HEADER;
  for (int i = 0; i < V6_MAX_EXTENSIONS; ++i) {
    switch (next) {
      case V6_HOP_BY_HOP:
      case V6_ROUTING:
      case V6_DEST_OPTS:
      case V6_AUTH: {
        if (off + 2 > total) return false;
        size_t ext = next == V6_AUTH ? (size_t(p[off + 1]) + 2) * 4 : (size_t(p[off + 1]) + 1) * 8;
        next = p[off];
        off += ext;
        if (off > total) return false;
        break;
      }
      case V6_FRAGMENT:
        if (off + 8 > total) return false;
        if ((be16(p + off + 2) & 0xfff8) != 0) return false;
        next = p[off];
        off += 8;
        break;
      case PROTO_ICMPV6:
        if (off + 1 > total) return false;
        return p[off] >= 128;
      default:
        return true;  // TCP, UDP, no next header, ...
    }
  }
  return false;
}

size_t build_v4(const uint8_t* p, size_t len, uint32_t mtu, uint8_t* out, size_t room) {
  V4Lengths l;
  if (!parse_v4(p, len, l)) return 0;
  constexpr size_t head = V4_HEADER + ICMP_HEADER;
  const size_t least = std::min(l.total, l.header + QUOTE_AFTER_HEADER);
  if (room < head + least) return 0;
  const size_t quote = std::min({l.total, ICMP4_TOO_BIG_MAX - head, room - head});
  const size_t n = head + quote;

  uint8_t* ip = out;
  std::memset(ip, 0, head);
  ip[0] = 0x45;
  ip[1] = 0xc0;  // internetwork control, as routers send errors (RFC 1812 4.3.2.5)
  put16(ip + 2, uint16_t(n));
  ip[8] = ICMP_TOO_BIG_HOP_LIMIT;
  ip[9] = PROTO_ICMP;
  std::memcpy(ip + 12, p + 16, 4);  // from the packet's destination
  std::memcpy(ip + 16, p + 12, 4);  // to its source
  put_checksum(ip + 10, checksum_partial(ip, V4_HEADER));

  uint8_t* icmp = ip + V4_HEADER;
  icmp[0] = 3;  // destination unreachable
  icmp[1] = 4;  // fragmentation needed and DF set
  put16(icmp + 6, uint16_t(std::min<uint32_t>(mtu, 0xffff)));
  std::memcpy(icmp + ICMP_HEADER, p, quote);
  put_checksum(icmp + 2, checksum_partial(icmp, ICMP_HEADER + quote));
  return n;
}

size_t build_v6(const uint8_t* p, size_t len, uint32_t mtu, uint8_t* out, size_t room) {
  size_t total;
  if (!parse_v6(p, len, total)) return 0;
  constexpr size_t head = V6_HEADER + ICMP_HEADER;
  const size_t least = std::min(total, V6_HEADER + QUOTE_AFTER_HEADER);
  if (room < head + least) return 0;
  const size_t quote = std::min({total, ICMP6_TOO_BIG_MAX - head, room - head});
  const size_t n = head + quote;
  const uint16_t icmp_len = uint16_t(ICMP_HEADER + quote);

  uint8_t* ip = out;
  std::memset(ip, 0, head);
  ip[0] = 0x60;
  put16(ip + 4, icmp_len);
  ip[6] = PROTO_ICMPV6;
  ip[7] = ICMP_TOO_BIG_HOP_LIMIT;
  std::memcpy(ip + 8, p + 24, 16);  // from the packet's destination
  std::memcpy(ip + 24, p + 8, 16);  // to its source

  uint8_t* icmp = ip + V6_HEADER;
  icmp[0] = 2;  // packet too big
  icmp[4] = uint8_t(mtu >> 24);
  icmp[5] = uint8_t(mtu >> 16);
  icmp[6] = uint8_t(mtu >> 8);
  icmp[7] = uint8_t(mtu);
  std::memcpy(icmp + ICMP_HEADER, p, quote);
  // The pseudo-header (RFC 8200 8.1): both addresses, the upper-layer
  // length and the next header.
  const uint32_t sum = pseudo_header_sum(6, ip + 8, ip + 24, PROTO_ICMPV6, uint32_t(icmp_len));
  put_checksum(icmp + 2, checksum_partial(icmp, icmp_len, sum));
  return n;
}

}  // namespace

bool needs_too_big_answer(const uint8_t* packet, size_t len, size_t mtu) {
  if (!packet || len == 0) return false;
  switch (packet[0] >> 4) {
    case 4: return v4_needs_answer(packet, len, mtu);
    case 6: return v6_needs_answer(packet, len, mtu);
    default: return false;
  }
}

size_t build_too_big(const uint8_t* packet, size_t len, uint32_t mtu, uint8_t* out, size_t room) {
  if (!packet || len == 0 || !out) return 0;
  switch (packet[0] >> 4) {
    case 4: return build_v4(packet, len, mtu, out, room);
    case 6: return build_v6(packet, len, mtu, out, room);
    default: return 0;
  }
}

}  // namespace zeq
