// In-tunnel control messages (PROTOCOL.md section 5, first byte 0x01): a data
// message whose plaintext is 0x01, a control type byte, then a body. They
// travel encrypted under the tunnel key like any packet, so only the peer
// reads them. Bodies are followed by the zero padding of the data message;
// parsers ignore it. Defined so far (docs/protocol.md "Control messages"):
//   0x01 DNS offer: count (1..4), then per resolver: family (4 or 6), address
//        (4 or 16 bytes). The sender offers its resolver; the receiver may
//        point its system resolver at it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/bytes.hpp"
#include "core/net_address.hpp"

namespace zeq {

inline constexpr uint8_t CONTROL_DNS_OFFER = 0x01;
inline constexpr size_t DNS_OFFER_MAX = 4;

// Resolvers as host prefixes (/32 or /128).
struct DnsOffer {
  std::vector<IpPrefix> resolvers;
};

// The whole plaintext (0x01, type, body), unpadded.
Bytes encode_dns_offer(const DnsOffer& offer);
// Reads a plaintext that starts with 0x01 CONTROL_DNS_OFFER; nullopt when it
// is malformed (bad count, family or length).
std::optional<DnsOffer> parse_dns_offer(ByteSpan plaintext);

}  // namespace zeq
