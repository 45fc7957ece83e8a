// Deferred freeing: nothing a worker may still read is freed under it.
#include <gtest/gtest.h>

#include "mesh/keypair.hpp"
#include "mesh/quiescence.hpp"

namespace zeq {

TEST(Quiescence, FreesOnlyAfterEveryWorkerMovedOn) {
  Quiescence q(2);
  SessionKeys keys;
  q.retire(std::move(Keypair::create(keys, nullptr, 1, 0).value()));
  q.collect();
  EXPECT_EQ(q.pending(), 1u);  // both workers still in the same epoch
  q.checkpoint(0);
  q.collect();
  EXPECT_EQ(q.pending(), 1u);
  q.go_offline(1);  // offline after the retire still counts as moved on
  q.collect();
  EXPECT_EQ(q.pending(), 0u);
  // A worker already offline at retire time does not hold anything up.
  q.retire(std::move(Keypair::create(keys, nullptr, 1, 0).value()));
  q.checkpoint(0);
  q.collect();
  EXPECT_EQ(q.pending(), 0u);
}

}  // namespace zeq
