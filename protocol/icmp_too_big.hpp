// The answer a router gives to a packet it may not fragment: ICMPv4 type 3
// code 4 "fragmentation needed" with the next-hop MTU (RFC 792, RFC 1191), or
// ICMPv6 type 2 "packet too big" (RFC 4443). The data plane answers so for
// an inner packet from the TUN that is longer than its peer's path MTU (the
// interface MTU, or less through a relay), so that path MTU discovery works
// through the tunnel instead of the packet vanishing. Pure: no I/O, no
// allocation; the caller writes the answer back to the TUN and rate-limits.
#pragma once

#include <cstddef>
#include <cstdint>

namespace zeq {

// How much of the packet an answer quotes at most, by family: an IPv4 answer
// is at most 576 bytes in all (every IPv4 host accepts that), an IPv6 one at
// most the minimum IPv6 MTU.
inline constexpr size_t ICMP4_TOO_BIG_MAX = 576;
inline constexpr size_t ICMP6_TOO_BIG_MAX = 1280;
// Room that fits any answer.
inline constexpr size_t ICMP_TOO_BIG_ROOM = ICMP6_TOO_BIG_MAX;
inline constexpr uint8_t ICMP_TOO_BIG_HOP_LIMIT = 64;

// True when `packet` (an IP packet from the TUN, len bytes) is longer than
// mtu and must be answered rather than sent: IPv4 with DF set, or any IPv6.
// Never an ICMP error itself (so errors never answer errors), never a
// fragment other than the first, never a packet whose source is not one host
// (unspecified, loopback, multicast, broadcast) or whose destination, which
// the answer comes from, is multicast or broadcast; false for a malformed
// packet. A GSO super-packet is segmented, not answered: call this only for
// packets the TUN handed over as one (no virtio-net GSO type).
bool needs_too_big_answer(const uint8_t* packet, size_t len, size_t mtu);

// Writes the answer to `packet` to out: from the packet's destination (we
// answer for the tunnel) to its source, quoting as much of the packet as
// fits in ICMP4_TOO_BIG_MAX / ICMP6_TOO_BIG_MAX (and in room), with the IPv4
// header checksum and the ICMP (ICMPv6: with its pseudo-header) checksum
// set. mtu is the next-hop MTU the answer announces (IPv4 carries 16 bits:
// larger values are capped at 65535). Returns the answer's length; 0 when the
// packet is malformed (not IPv4 or IPv6, its header cut short or its length
// fields wrong) or room cannot hold the IP header and ICMP header plus the
// packet's IP header and 8 bytes (ICMP_TOO_BIG_ROOM always does).
size_t build_too_big(const uint8_t* packet, size_t len, uint32_t mtu, uint8_t* out, size_t room);

}  // namespace zeq
