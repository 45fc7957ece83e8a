#include <gtest/gtest.h>

#include "mesh/allowed_ips.hpp"
#include "mesh/index_table.hpp"
#include "mesh/keypair.hpp"
#include "mesh/quiescence.hpp"

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

TEST(IndexTable, ReservePublishLookupRelease) {
  IndexTable table;
  auto idx = table.reserve();
  ASSERT_TRUE(idx);
  EXPECT_EQ(table.lookup(*idx), nullptr);
  SessionKeys keys;
  keys.local_index = *idx;
  Keypair kp(keys, nullptr, 1, 0);
  table.publish(*idx, &kp);
  EXPECT_EQ(table.lookup(*idx), &kp);
  // Same slot, different random half: not a match.
  EXPECT_EQ(table.lookup(*idx ^ 0x10000u), nullptr);
  table.release(*idx);
  EXPECT_EQ(table.lookup(*idx), nullptr);
}

TEST(Quiescence, FreesOnlyAfterEveryWorkerMovedOn) {
  Quiescence q(2);
  SessionKeys keys;
  q.retire(std::make_unique<Keypair>(keys, nullptr, 1, 0));
  q.collect();
  EXPECT_EQ(q.pending(), 1u);  // both workers still in the same epoch
  q.checkpoint(0);
  q.collect();
  EXPECT_EQ(q.pending(), 1u);
  q.go_offline(1);  // offline after the retire still counts as moved on
  q.collect();
  EXPECT_EQ(q.pending(), 0u);
  // A worker already offline at retire time does not hold anything up.
  q.retire(std::make_unique<Keypair>(keys, nullptr, 1, 0));
  q.checkpoint(0);
  q.collect();
  EXPECT_EQ(q.pending(), 0u);
}

TEST(Keypair, CountersAndExpiry) {
  SessionKeys keys;
  Keypair kp(keys, nullptr, 2, 1000);
  EXPECT_EQ(kp.next_counter(), 0u);
  EXPECT_EQ(kp.next_counter(), 1u);
  EXPECT_FALSE(kp.needs_rekey(1000 + zeqonds_to_us(REKEY_AFTER_Z) - 1));
  EXPECT_TRUE(kp.needs_rekey(1000 + zeqonds_to_us(REKEY_AFTER_Z)));
  EXPECT_FALSE(kp.expired(1000 + zeqonds_to_us(REJECT_AFTER_Z) - 1));
  EXPECT_TRUE(kp.expired(1000 + zeqonds_to_us(REJECT_AFTER_Z)));
  EXPECT_TRUE(kp.replay_accept(5));
  EXPECT_FALSE(kp.replay_may_accept(5));
}

}  // namespace zeq
