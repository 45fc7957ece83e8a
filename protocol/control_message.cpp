#include "protocol/control_message.hpp"

#include <algorithm>

#include "protocol/wire.hpp"

namespace zeq {

Bytes encode_dns_offer(const DnsOffer& offer) {
  Bytes out{wire::PLAINTEXT_CONTROL, CONTROL_DNS_OFFER, uint8_t(offer.resolvers.size())};
  for (const auto& r : offer.resolvers) {
    out.push_back(uint8_t(r.family));
    out.insert(out.end(), r.addr.begin(), r.addr.begin() + long(r.address_bytes()));
  }
  return out;
}

std::optional<DnsOffer> parse_dns_offer(ByteSpan p) {
  if (p.size() < 3 || p[0] != wire::PLAINTEXT_CONTROL || p[1] != CONTROL_DNS_OFFER) return std::nullopt;
  size_t count = p[2];
  if (count == 0 || count > DNS_OFFER_MAX) return std::nullopt;
  DnsOffer offer;
  size_t at = 3;
  for (size_t i = 0; i < count; ++i) {
    if (at >= p.size()) return std::nullopt;
    IpPrefix r;
    r.family = p[at] == 4 ? 4 : p[at] == 6 ? 6 : 0;
    if (r.family == 0) return std::nullopt;
    size_t n = r.address_bytes();
    if (at + 1 + n > p.size()) return std::nullopt;
    std::copy_n(p.begin() + long(at + 1), n, r.addr.begin());
    r.length = uint8_t(n * 8);
    offer.resolvers.push_back(r);
    at += 1 + n;
  }
  return offer;
}

Bytes encode_exit_offer(const ExitOffer& offer) {
  return Bytes{wire::PLAINTEXT_CONTROL, CONTROL_EXIT_OFFER, offer.families};
}

std::optional<ExitOffer> parse_exit_offer(ByteSpan p) {
  if (p.size() < 3 || p[0] != wire::PLAINTEXT_CONTROL || p[1] != CONTROL_EXIT_OFFER) return std::nullopt;
  // Unknown bits are refused, not ignored: a later version that adds a
  // family must not be read as offering less than it says.
  if (p[2] & ~(EXIT_IPV4 | EXIT_IPV6)) return std::nullopt;
  return ExitOffer{p[2]};
}

std::optional<uint8_t> control_type(ByteSpan p) {
  if (p.size() < 2 || p[0] != wire::PLAINTEXT_CONTROL) return std::nullopt;
  return p[1];
}

}  // namespace zeq
