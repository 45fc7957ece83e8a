// Cryptokey routing: longest-prefix match per family.
#include <gtest/gtest.h>

#include "mesh/allowed_ips.hpp"

namespace zeq {

namespace {
std::array<uint8_t, 16> addr(const char* text) { return parse_ip_prefix(text)->addr; }
}  // namespace

TEST(AllowedIps, LongestPrefixMatchPerFamily) {
  AllowedIps t;
  t.insert(*parse_ip_prefix("10.77.0.0/16"), 1);
  t.insert(*parse_ip_prefix("10.77.5.0/24"), 2);
  t.insert(*parse_ip_prefix("10.77.5.7/32"), 3);
  t.insert(*parse_ip_prefix("fd77::/64"), 4);
  t.insert(*parse_ip_prefix("fd77::9/128"), 5);
  EXPECT_EQ(t.lookup(4, addr("10.77.1.1").data()), 1);
  EXPECT_EQ(t.lookup(4, addr("10.77.5.1").data()), 2);
  EXPECT_EQ(t.lookup(4, addr("10.77.5.7").data()), 3);
  EXPECT_EQ(t.lookup(4, addr("10.78.0.1").data()), -1);
  EXPECT_EQ(t.lookup(6, addr("fd77::1").data()), 4);
  EXPECT_EQ(t.lookup(6, addr("fd77::9").data()), 5);
  EXPECT_EQ(t.lookup(6, addr("fd78::1").data()), -1);
  // IPv4 prefixes never match IPv6 addresses and vice versa.
  EXPECT_EQ(t.lookup(6, addr("10.77.5.7").data()), -1);
}

TEST(AllowedIps, DefaultRouteAndHostBitsIgnored) {
  AllowedIps t;
  t.insert(*parse_ip_prefix("0.0.0.0/0"), 7);
  t.insert(*parse_ip_prefix("192.0.2.77/24"), 8);  // host bits are masked off
  EXPECT_EQ(t.lookup(4, addr("198.51.100.1").data()), 7);
  EXPECT_EQ(t.lookup(4, addr("192.0.2.1").data()), 8);
}

}  // namespace zeq
