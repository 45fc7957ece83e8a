// A session's keys as the data plane holds them, and the switch to a newly
// confirmed session (Peer::confirm and the control thread's side of it).
#include <gtest/gtest.h>

#include "mesh/keypair.hpp"
#include "mesh/peer.hpp"

namespace zeq {

TEST(Keypair, CountersAndExpiry) {
  SessionKeys keys;
  auto made = Keypair::create(keys, nullptr, 2, 1000);
  ASSERT_TRUE(made) << made.message();
  Keypair& kp = **made;
  EXPECT_EQ(kp.next_counter(), 0u);
  EXPECT_EQ(kp.next_counter(), 1u);
  EXPECT_FALSE(kp.needs_rekey(1000 + zeqonds_to_us(REKEY_AFTER_Z) - 1));
  EXPECT_TRUE(kp.needs_rekey(1000 + zeqonds_to_us(REKEY_AFTER_Z)));
  EXPECT_FALSE(kp.expired(1000 + zeqonds_to_us(REJECT_AFTER_Z) - 1));
  EXPECT_TRUE(kp.expired(1000 + zeqonds_to_us(REJECT_AFTER_Z)));
  EXPECT_TRUE(kp.replay_accept(5));
  EXPECT_FALSE(kp.replay_may_accept(5));
}

TEST(Keypair, ReturnedCounterIsReusedOnlyWhenNoneWasTakenSince) {
  SessionKeys keys;
  auto kp = std::move(Keypair::create(keys, nullptr, 1, 0).value());
  uint64_t c = kp->next_counter();
  kp->return_counter(c);
  EXPECT_EQ(kp->next_counter(), c);  // given back: the next packet uses it
  uint64_t d = kp->next_counter();
  uint64_t e = kp->next_counter();
  kp->return_counter(d);             // e was taken meanwhile: d stays a gap
  EXPECT_EQ(kp->next_counter(), e + 1);
}

TEST(Keypair, BrokenSealerFailsEverySeal) {
  SessionKeys keys;
  auto kp = std::move(Keypair::create(keys, nullptr, 2, 0).value());
  kp->break_sealing_for_tests();
  uint8_t iv[12] = {0}, tag[16];
  Bytes data(16);
  EXPECT_FALSE(kp->sealer(0).seal(iv, {}, data, tag));
  EXPECT_FALSE(kp->sealer(1).seal(iv, {}, data, tag));
}

// The responder's new session becomes current on its first packet, from the
// worker, without waiting for the control thread.
TEST(SessionSwitch, ConfirmMakesTheAwaitedSessionCurrent) {
  Peer peer(PeerSettings{.zid = "zeq-000000000001"}, 1);
  SessionKeys old_keys, new_keys;
  auto old_session = std::move(Keypair::create(old_keys, &peer, 1, 0).value());
  auto new_session = std::move(Keypair::create(new_keys, &peer, 1, 0).value());
  peer.publish_current(old_session.get());
  peer.await_confirmation(new_session.get());
  EXPECT_EQ(peer.current.load(), old_session.get());   // not before a packet under it
  EXPECT_FALSE(peer.confirm(old_session.get()));        // only the awaited one switches
  EXPECT_TRUE(peer.confirm(new_session.get()));
  EXPECT_EQ(peer.current.load(), new_session.get());
  EXPECT_FALSE(peer.confirm(new_session.get()));        // once
}

// A session the control thread retired cannot be made current afterwards,
// even by a worker that still holds it.
TEST(SessionSwitch, UnpublishedSessionIsNeverConfirmed) {
  Peer peer(PeerSettings{.zid = "zeq-000000000001"}, 1);
  SessionKeys keys;
  auto session = std::move(Keypair::create(keys, &peer, 1, 0).value());
  peer.await_confirmation(session.get());
  peer.unpublish(session.get());
  EXPECT_FALSE(peer.confirm(session.get()));
  EXPECT_EQ(peer.current.load(), nullptr);
  // And unpublishing the current session clears it.
  peer.publish_current(session.get());
  peer.unpublish(session.get());
  EXPECT_EQ(peer.current.load(), nullptr);
}

// The control thread retires a `next` that a worker confirmed an instant
// before (a race the control thread cannot see): the key it owns as current
// is published again rather than none.
TEST(SessionSwitch, RetiringAJustConfirmedSessionFallsBackToTheOwnedOne) {
  Peer peer(PeerSettings{.zid = "zeq-000000000001"}, 1);
  SessionKeys keys;
  auto owned = std::move(Keypair::create(keys, &peer, 1, 0).value());
  auto next = std::move(Keypair::create(keys, &peer, 1, 0).value());
  peer.publish_current(owned.get());
  peer.await_confirmation(next.get());
  ASSERT_TRUE(peer.confirm(next.get()));
  peer.unpublish(next.get(), owned.get());
  EXPECT_EQ(peer.current.load(), owned.get());
}

}  // namespace zeq
