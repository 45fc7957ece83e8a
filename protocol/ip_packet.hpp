// Just enough IPv4/IPv6 parsing for cryptokey routing: the real length of a
// padded packet, and its source and destination addresses.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/bytes.hpp"

namespace zeq {

// The IP header's idea of the packet length, or 0 when the bytes are not a
// well-formed IPv4/IPv6 header or claim more than `bytes` holds.
size_t ip_packet_length(ByteSpan bytes);

inline constexpr size_t IPV4_HEADER_MIN = 20;  // without options
inline constexpr size_t IPV6_HEADER_SIZE = 40;  // the fixed header

// 4 or 6 from the first nibble (0 otherwise).
inline int ip_version(ByteSpan bytes) { return bytes.empty() ? 0 : bytes[0] >> 4; }
// The shortest packet of the family that has both addresses.
inline size_t ip_header_min(int family) { return family == 4 ? IPV4_HEADER_MIN : IPV6_HEADER_SIZE; }

// Pointers into the packet; the caller has checked ip_packet_length() > 0
// (for a source address) or the minimum header size (for a destination).
inline constexpr size_t IPV4_SOURCE_OFFSET = 12, IPV4_DESTINATION_OFFSET = 16;
inline constexpr size_t IPV6_SOURCE_OFFSET = 8, IPV6_DESTINATION_OFFSET = 24;
inline const uint8_t* ip_source(const uint8_t* pkt) {
  return pkt + ((pkt[0] >> 4) == 4 ? IPV4_SOURCE_OFFSET : IPV6_SOURCE_OFFSET);
}
inline const uint8_t* ip_destination(const uint8_t* pkt) {
  return pkt + ((pkt[0] >> 4) == 4 ? IPV4_DESTINATION_OFFSET : IPV6_DESTINATION_OFFSET);
}

// Rounds len up to a multiple of 16, never past limit (PROTOCOL.md 5:
// plaintext is zero-padded; the receiver trims it back).
inline size_t padded_length(size_t len, size_t limit) {
  size_t p = (len + 15) & ~size_t{15};
  return p > limit ? (len > limit ? len : limit) : p;
}

}  // namespace zeq
