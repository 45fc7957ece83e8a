// In-tunnel control messages: the DNS offer round-trips, tolerates the zero
// padding of data messages, and every malformed form is refused.
#include <gtest/gtest.h>

#include "protocol/control_message.hpp"
#include "protocol/wire.hpp"

namespace zeq {
namespace {

TEST(DnsOffer, RoundTripWithPadding) {
  DnsOffer offer{{*parse_ip_prefix("10.77.0.2"), *parse_ip_prefix("fd77::2")}};
  Bytes wire = encode_dns_offer(offer);
  ASSERT_EQ(wire.size(), 3u + 5u + 17u);
  EXPECT_EQ(wire[0], wire::PLAINTEXT_CONTROL);
  EXPECT_EQ(wire[1], CONTROL_DNS_OFFER);
  EXPECT_EQ(wire[2], 2);
  EXPECT_EQ(wire[3], 4);
  Bytes padded = wire;
  padded.resize(32, 0);  // as a data message pads it
  for (const Bytes& b : {wire, padded}) {
    auto back = parse_dns_offer(b);
    ASSERT_TRUE(back);
    ASSERT_EQ(back->resolvers.size(), 2u);
    EXPECT_EQ(back->resolvers[0], offer.resolvers[0]);
    EXPECT_EQ(back->resolvers[1], offer.resolvers[1]);
  }
}

TEST(DnsOffer, MalformedIsRefused) {
  Bytes good = encode_dns_offer({{*parse_ip_prefix("fd77::2")}});
  for (size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(parse_dns_offer(ByteSpan(good.data(), n))) << "truncated to " << n;
  Bytes bad_family = good;
  bad_family[3] = 5;
  EXPECT_FALSE(parse_dns_offer(bad_family));
  Bytes zero = good;
  zero[2] = 0;
  EXPECT_FALSE(parse_dns_offer(zero));
  Bytes too_many = good;
  too_many[2] = DNS_OFFER_MAX + 1;
  EXPECT_FALSE(parse_dns_offer(too_many));
  Bytes other_type = good;
  other_type[1] = 0x02;
  EXPECT_FALSE(parse_dns_offer(other_type));
}

}  // namespace
}  // namespace zeq
