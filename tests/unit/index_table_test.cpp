// Receiver index -> session, the workers' O(1) lookup.
#include <gtest/gtest.h>

#include <vector>

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

// What a worker asks of a cookie reply's receiver index: reserved now, by
// the full index, from reserve() to release(), published or not.
TEST(IndexTable, ReservedFromReserveToRelease) {
  IndexTable table;
  auto idx = table.reserve();
  ASSERT_TRUE(idx);
  EXPECT_TRUE(table.reserved(*idx));
  EXPECT_FALSE(table.reserved(*idx ^ 0x10000u));  // same slot, other random half
  EXPECT_FALSE(table.reserved(*idx ^ 1u));        // another slot
  SessionKeys keys;
  keys.local_index = *idx;
  auto kp = std::move(Keypair::create(keys, nullptr, 1, 0).value());
  table.publish(*idx, kp.get());
  EXPECT_TRUE(table.reserved(*idx));
  table.release(*idx);
  EXPECT_FALSE(table.reserved(*idx));
  // A free slot matches no index, whatever its random half.
  for (uint32_t high = 0; high < 4; ++high) EXPECT_FALSE(table.reserved((high << 16) | (*idx & 0xffffu)));
}

// The table starts as zeroed memory (calloc): every slot of it must read as
// free, for any index, and every slot but one can be reserved.
TEST(IndexTable, FreshTableIsEmptyAndFillsToAllButOneSlot) {
  IndexTable table;
  for (uint32_t slot = 0; slot < IndexTable::SLOTS; ++slot)
    for (uint32_t high : {0u, 1u, 0xffffu}) {
      const uint32_t index = (high << 16) | slot;
      ASSERT_FALSE(table.reserved(index)) << index;
      ASSERT_EQ(table.lookup(index), nullptr) << index;
    }
  std::vector<bool> seen(IndexTable::SLOTS);
  for (uint32_t i = 0; i < IndexTable::SLOTS - 1; ++i) {
    auto idx = table.reserve();
    ASSERT_TRUE(idx) << "reservation " << i;
    ASSERT_FALSE(seen[*idx & 0xffffu]) << "slot given twice";
    seen[*idx & 0xffffu] = true;
    ASSERT_TRUE(table.reserved(*idx));
  }
  EXPECT_FALSE(table.reserve()) << "full";
}

}  // namespace zeq
