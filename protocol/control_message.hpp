// In-tunnel control messages (PROTOCOL.md section 5, first byte 0x01): a data
// message whose plaintext is 0x01, a control type byte, then a body. They
// travel encrypted under the tunnel key like any packet, so only the peer
// reads them. Bodies are followed by the zero padding of the data message;
// parsers ignore it. Defined so far (docs/protocol.md "Control messages"):
//   0x01 DNS offer: count (1..4), then per resolver: family (4 or 6), address
//        (4 or 16 bytes). The sender offers its resolver; the receiver may
//        point its system resolver at it.
//   0x02 Exit offer: families (1 byte: bit 0 IPv4, bit 1 IPv6, other bits
//        zero). The sender forwards the receiver's traffic of those families
//        to the outside (it is an exit node for it); 0 withdraws the offer.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/bytes.hpp"
#include "core/net_address.hpp"

namespace zeq {

inline constexpr uint8_t CONTROL_DNS_OFFER = 0x01;
inline constexpr size_t DNS_OFFER_MAX = 4;
inline constexpr uint8_t CONTROL_EXIT_OFFER = 0x02;
inline constexpr uint8_t EXIT_IPV4 = 0x01;
inline constexpr uint8_t EXIT_IPV6 = 0x02;

// Resolvers as host prefixes (/32 or /128).
struct DnsOffer {
  std::vector<IpPrefix> resolvers;
};

// The whole plaintext (0x01, type, body), unpadded.
Bytes encode_dns_offer(const DnsOffer& offer);
// Reads a plaintext that starts with 0x01 CONTROL_DNS_OFFER; nullopt when it
// is malformed (bad count, family or length).
std::optional<DnsOffer> parse_dns_offer(ByteSpan plaintext);

// Which families the sender carries out for the receiver (EXIT_IPV4 |
// EXIT_IPV6); 0 = none, the offer withdrawn.
struct ExitOffer {
  uint8_t families = 0;
  bool ipv4() const { return families & EXIT_IPV4; }
  bool ipv6() const { return families & EXIT_IPV6; }
  bool operator==(const ExitOffer&) const = default;
};

Bytes encode_exit_offer(const ExitOffer& offer);
// Reads a plaintext that starts with 0x01 CONTROL_EXIT_OFFER; nullopt when
// the body is missing or sets an unknown family bit.
std::optional<ExitOffer> parse_exit_offer(ByteSpan plaintext);
// The control type of an in-tunnel control message, nullopt when too short.
std::optional<uint8_t> control_type(ByteSpan plaintext);

}  // namespace zeq
