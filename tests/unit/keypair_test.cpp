// A session's keys as the data plane holds them, and the switch to a newly
// confirmed session (Peer::confirm and the control thread's side of it).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

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

// Two workers opening packets of one session at once (roaming, relayed
// paths): each counter is accepted by exactly one of them, however their
// checks interleave. Both see every counter of the same stream, shuffled
// within blocks of 256 (reordering on the way), and run the data
// path's sequence: the unlocked pre-check, then the accept. Whoever tries a
// counter first accepts it (the other is behind it, so it is never too
// old): so every counter is accepted once, and the pre-check never turned
// one away that was new.
TEST(Keypair, ConcurrentAcceptsTakeEachCounterOnce) {
  SessionKeys keys;
  auto kp = std::move(Keypair::create(keys, nullptr, 2, 0).value());
  constexpr uint64_t N = 200'000;
  std::vector<uint64_t> stream(N);
  for (uint64_t i = 0; i < N; ++i) stream[i] = i;
  std::mt19937_64 rng(7);
  for (uint64_t i = 0; i < N; i += 256) std::shuffle(stream.begin() + i, stream.begin() + std::min(i + 256, N), rng);
  std::vector<std::atomic<uint8_t>> taken(N);
  std::atomic<bool> go{false};
  auto worker = [&] {
    while (!go.load()) {}
    for (uint64_t c : stream)
      if (kp->replay_may_accept(c) && kp->replay_accept(c)) taken[c].fetch_add(1);
  };
  std::thread a(worker), b(worker);
  go.store(true);
  a.join();
  b.join();
  for (uint64_t c = 0; c < N; ++c) ASSERT_EQ(taken[c].load(), 1) << "counter " << c;
}

// The unlocked pre-check racing accepts: it may let a replay through to the
// locked accept (which refuses it), but never turns away a counter nobody
// accepted. One thread accepts the even counters in order; the other
// pre-checks odd ones just ahead of where it saw the acceptor, which nobody
// ever accepts. The acceptor stays within 4096 of what the checker has seen,
// so those odd counters are never too old (WINDOW_SIZE is 16320).
TEST(Keypair, PreCheckNeverRejectsAFreshCounterUnderRace) {
  SessionKeys keys;
  auto kp = std::move(Keypair::create(keys, nullptr, 2, 0).value());
  constexpr uint64_t N = 200'000;
  std::atomic<uint64_t> progress{0}, seen{0};
  std::atomic<bool> done{false};
  std::thread acceptor([&] {
    for (uint64_t c = 0; c < N; c += 2) {
      while (c > seen.load(std::memory_order_relaxed) + 4096) std::this_thread::yield();
      EXPECT_TRUE(kp->replay_accept(c));
      progress.store(c, std::memory_order_relaxed);
    }
    done.store(true);
  });
  uint64_t checks = 0, wrong = 0;
  while (!done.load()) {
    const uint64_t at = progress.load(std::memory_order_relaxed);
    for (uint64_t c = (at | 1); c < (at | 1) + 64; c += 2) {
      ++checks;
      if (!kp->replay_may_accept(c)) ++wrong;
    }
    seen.store(at, std::memory_order_relaxed);
  }
  acceptor.join();
  EXPECT_EQ(wrong, 0u) << "of " << checks << " checks";
  // And the replays it is there for.
  EXPECT_FALSE(kp->replay_may_accept(N - 2));
  EXPECT_FALSE(kp->replay_may_accept(0));  // too old
  EXPECT_TRUE(kp->replay_may_accept(N - 1));
}

// What keeps workers off each other's cache lines: the per-packet written
// fields start lines of their own (mesh/keypair.hpp, mesh/peer.hpp).
TEST(Keypair, PerPacketFieldsAreOnTheirOwnCacheLines) {
  static_assert(alignof(Keypair) >= CACHE_LINE);
  static_assert(alignof(Peer) >= CACHE_LINE);
  Peer peer(PeerSettings{.zid = "zeq-000000000001"}, 1);
  auto line = [](const void* p) { return reinterpret_cast<uintptr_t>(p) / CACHE_LINE; };
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&peer) % CACHE_LINE, 0u);
  const uintptr_t read_mostly[] = {line(&peer.current), line(&peer.route), line(&peer.padding),
                                   line(&peer.relays_for_us), line(&peer.arrived_by)};
  const uintptr_t rx = line(&peer.rx_bytes), tx = line(&peer.tx_bytes);
  for (uintptr_t l : read_mostly) {
    EXPECT_NE(l, rx);
    EXPECT_NE(l, tx);
  }
  EXPECT_NE(rx, tx);
  EXPECT_EQ(line(&peer.rx_packets), rx);
  EXPECT_EQ(line(&peer.last_rx_us), rx);
  EXPECT_EQ(line(&peer.tx_packets), tx);
  EXPECT_EQ(line(&peer.last_tx_us), tx);
  EXPECT_NE(line(&peer.first_unanswered_us), rx);
  EXPECT_NE(line(&peer.first_unanswered_us), tx);

  SessionKeys keys;
  auto kp = std::move(Keypair::create(keys, &peer, 2, 0).value());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(kp.get()) % CACHE_LINE, 0u);  // aligned new
}

}  // namespace zeq
