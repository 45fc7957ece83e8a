// Receiver index -> session, the workers' O(1) lookup.
#include <gtest/gtest.h>

#include "mesh/index_table.hpp"
#include "mesh/keypair.hpp"

namespace zeq {

TEST(IndexTable, ReservePublishLookupRelease) {
  IndexTable table;
  auto idx = table.reserve();
  ASSERT_TRUE(idx);
  EXPECT_EQ(table.lookup(*idx), nullptr);
  SessionKeys keys;
  keys.local_index = *idx;
  auto kp = std::move(Keypair::create(keys, nullptr, 1, 0).value());
  table.publish(*idx, kp.get());
  EXPECT_EQ(table.lookup(*idx), kp.get());
  // Same slot, different random half: not a match.
  EXPECT_EQ(table.lookup(*idx ^ 0x10000u), nullptr);
  table.release(*idx);
  EXPECT_EQ(table.lookup(*idx), nullptr);
}

}  // namespace zeq
