// In-tunnel control messages: the DNS and exit offers round-trip, tolerate
// the zero padding of data messages, and every malformed form is refused.
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

TEST(ExitOffer, BytesAsDocumented) {
  // docs/protocol.md "Control messages": 01 02 families.
  EXPECT_EQ(encode_exit_offer({EXIT_IPV4 | EXIT_IPV6}), (Bytes{0x01, 0x02, 0x03}));
  EXPECT_EQ(encode_exit_offer({EXIT_IPV4}), (Bytes{0x01, 0x02, 0x01}));
  EXPECT_EQ(encode_exit_offer({0}), (Bytes{0x01, 0x02, 0x00}));
}

TEST(ExitOffer, RoundTripWithPadding) {
  for (uint8_t f : {0, 1, 2, 3}) {
    Bytes wire = encode_exit_offer({f});
    wire.resize(16, 0);  // the data message's zero padding
    auto back = parse_exit_offer(wire);
    ASSERT_TRUE(back) << int(f);
    EXPECT_EQ(back->families, f);
    EXPECT_EQ(back->ipv4(), bool(f & 1));
    EXPECT_EQ(back->ipv6(), bool(f & 2));
    EXPECT_EQ(control_type(wire), CONTROL_EXIT_OFFER);
  }
}

TEST(ExitOffer, MalformedIsRefused) {
  Bytes good = encode_exit_offer({EXIT_IPV4});
  for (size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(parse_exit_offer(ByteSpan(good.data(), n))) << "truncated to " << n;
  for (uint8_t bit = 2; bit < 8; ++bit) {
    Bytes unknown = good;
    unknown[2] = uint8_t(1u << bit);
    EXPECT_FALSE(parse_exit_offer(unknown)) << "bit " << int(bit);
  }
  Bytes dns_type = good;
  dns_type[1] = CONTROL_DNS_OFFER;
  EXPECT_FALSE(parse_exit_offer(dns_type));
  Bytes not_control = good;
  not_control[0] = 0x00;
  EXPECT_FALSE(parse_exit_offer(not_control));
  EXPECT_FALSE(control_type(ByteSpan(good.data(), 1)));
}

}  // namespace
}  // namespace zeq
