// Cryptokey routing: longest-prefix match per family, and the exit in use
// getting the default routes beside its own prefixes.
#include <gtest/gtest.h>

#include "mesh/allowed_ips.hpp"
#include "mesh/data_plane.hpp"

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

TEST(DataPlane, ExitPeerGetsTheDefaultRoutesOfItsFamiliesOnly) {
  DataPlane plane(1, 1416);
  PeerSettings exit, other;
  exit.zid = "zeq-000000000001";
  exit.allowed_ips = {*parse_ip_prefix("10.77.0.2/32")};
  other.zid = "zeq-000000000002";
  other.allowed_ips = {*parse_ip_prefix("10.77.0.3/32"), *parse_ip_prefix("fd77::3/128")};
  Peer& e = plane.add_peer(exit);
  Peer& o = plane.add_peer(other);
  plane.publish_table();
  EXPECT_EQ(plane.table()->lookup(4, addr("198.51.100.1").data()), nullptr);

  plane.exit_serial = e.serial;
  plane.exit_ipv4 = true;  // an IPv4-only exit
  plane.publish_table();
  EXPECT_EQ(plane.table()->lookup(4, addr("198.51.100.1").data()), &e);
  EXPECT_EQ(plane.table()->lookup(4, addr("10.77.0.3").data()), &o);  // the mesh stays more specific
  EXPECT_EQ(plane.table()->lookup(6, addr("2001:db8::1").data()), nullptr);
  EXPECT_EQ(plane.table()->lookup(6, addr("fd77::3").data()), &o);

  plane.exit_ipv6 = true;
  plane.publish_table();
  EXPECT_EQ(plane.table()->lookup(6, addr("2001:db8::1").data()), &e);

  plane.exit_serial = 0;  // exit off
  plane.publish_table();
  EXPECT_EQ(plane.table()->lookup(4, addr("198.51.100.1").data()), nullptr);
  EXPECT_EQ(plane.table()->lookup(6, addr("2001:db8::1").data()), nullptr);
}

}  // namespace zeq
