// Cryptokey routing: longest-prefix match per family, and the exit in use
// getting the default routes beside its own prefixes.
#include <gtest/gtest.h>

#include <map>
#include <random>

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

namespace {

// Random prefixes that nest and overlap a lot: drawn around a few bases,
// with lengths anywhere from 0 to the full address.
IpPrefix random_prefix(std::mt19937_64& rng, int family) {
  IpPrefix p;
  p.family = family;
  const unsigned bits = family == 4 ? 32 : 128;
  static const uint8_t bases[4][16] = {{10, 77}, {192, 168, 1}, {0xfd, 0x77, 0, 0, 0, 0, 0, 1}, {0x20, 0x01, 0x0d, 0xb8}};
  const uint8_t* base = bases[rng() % 4];
  for (size_t i = 0; i < p.address_bytes(); ++i) p.addr[i] = rng() % 4 == 0 ? uint8_t(rng()) : base[i];
  // Mostly long prefixes (hosts and small nets), some short ones.
  p.length = uint8_t(rng() % 3 == 0 ? rng() % (bits + 1) : bits - rng() % std::min(bits / 4 + 1, 9u));
  return p.network();
}

// Addresses inside the prefixes (host bits random), and anywhere.
std::array<uint8_t, 16> random_address(std::mt19937_64& rng, const std::vector<IpPrefix>& near, int family) {
  std::array<uint8_t, 16> a{};
  const size_t bytes = family == 4 ? 4 : 16;
  if (!near.empty() && rng() % 4 != 0) {
    const IpPrefix& p = near[rng() % near.size()];
    a = p.addr;
    for (unsigned bit = p.length; bit < bytes * 8; ++bit)
      if (rng() & 1) a[bit / 8] ^= uint8_t(0x80 >> (bit % 8));
  } else {
    for (size_t i = 0; i < bytes; ++i) a[i] = uint8_t(rng());
  }
  return a;
}

}  // namespace

// The trie against a brute-force longest-prefix match (every prefix tried,
// the longest covering one wins; a prefix given again takes the new peer),
// over thousands of random prefixes per family and lookups in and around
// them, for several seeds and table sizes (the trie's shape depends on the
// order of inserts).
TEST(AllowedIps, MatchesBruteForceLongestPrefixMatch) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    std::mt19937_64 rng(seed);
    const int count = seed % 2 ? 4000 : 300;
    AllowedIps t;
    std::map<IpPrefix, int> model;  // the last peer given each prefix
    std::vector<IpPrefix> v4, v6;
    for (int i = 0; i < count; ++i) {
      const int family = rng() % 2 ? 4 : 6;
      IpPrefix p = random_prefix(rng, family);
      if (rng() % 10 == 0) p.addr[p.address_bytes() - 1] |= 1;  // host bits set: insert masks them
      const int peer = int(rng() % 5000);
      t.insert(p, peer);
      model[p.network()] = peer;
      (family == 4 ? v4 : v6).push_back(p.network());
    }
    const int lookups = count > 1000 ? 5000 : 20'000;  // brute force is O(prefixes) per lookup
    for (int i = 0; i < lookups; ++i) {
      const int family = rng() % 2 ? 4 : 6;
      const auto a = random_address(rng, family == 4 ? v4 : v6, family);
      int want = -1, best_len = -1;
      for (const auto& [p, peer] : model)
        if (p.family == family && int(p.length) > best_len && p.contains(family, a.data())) {
          want = peer;
          best_len = p.length;
        }
      ASSERT_EQ(t.lookup(family, a.data()), want)
          << "seed " << seed << " lookup " << i << ": " << IpPrefix{family, a, uint8_t(family == 4 ? 32 : 128)}.to_string();
    }
    // Path compression: at most one branching node per prefix.
    EXPECT_LE(t.node_count(), 2 * model.size());
  }
}

TEST(AllowedIps, EmptyAndFullLengthEdges) {
  AllowedIps t;
  EXPECT_EQ(t.lookup(4, addr("10.0.0.1").data()), -1);
  EXPECT_EQ(t.lookup(6, addr("::1").data()), -1);
  t.insert(*parse_ip_prefix("255.255.255.255/32"), 1);
  t.insert(*parse_ip_prefix("0.0.0.0/32"), 2);
  t.insert(*parse_ip_prefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), 3);
  t.insert(*parse_ip_prefix("8000::/1"), 4);
  t.insert(*parse_ip_prefix("::/0"), 5);
  t.insert(*parse_ip_prefix("::/0"), 6);  // given again: the new peer
  EXPECT_EQ(t.lookup(4, addr("255.255.255.255").data()), 1);
  EXPECT_EQ(t.lookup(4, addr("0.0.0.0").data()), 2);
  EXPECT_EQ(t.lookup(4, addr("0.0.0.1").data()), -1);
  EXPECT_EQ(t.lookup(6, addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").data()), 3);
  EXPECT_EQ(t.lookup(6, addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe").data()), 4);
  EXPECT_EQ(t.lookup(6, addr("7fff::").data()), 6);
}

}  // namespace zeq
