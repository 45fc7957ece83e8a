// PLAT chains (directory/plat_chain.hpp): the chains of
// tests/data/plat_vectors.py (Python's hmac) byte for byte, the sending end,
// and every verdict of the receiving end with how its head moves.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "directory/plat_chain.hpp"
#include "test_data.hpp"

namespace zeq {

namespace {

using test::hex;
using test::hex_array;

const nlohmann::json& vectors() {
  static const nlohmann::json v = test::load_json("plat-vectors.json");
  return v;
}

SyncSecret sync_of(const nlohmann::json& chain) {
  return SyncSecret::make(hex(chain["secret"]), hex(chain["sync_uid"])).value();
}

Digest32 hash_n(uint8_t i) {
  Digest32 d{};
  d.fill(i);
  return d;
}

// A sender's ticks: (zeqond, digest hash, PLAT).
struct Tick {
  uint64_t z;
  Digest32 hash;
  Plat plat;
};

std::vector<Tick> ticks_of(const SyncSecret& sync, uint64_t z0, size_t n, uint8_t salt = 0) {
  PlatSender sender(sync);
  std::vector<Tick> out;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t z = z0 + 2 * i;
    const Digest32 h = hash_n(uint8_t(salt + i));
    out.push_back({z, h, sender.next(z, h)});
  }
  return out;
}

class PlatReceiverTest : public ::testing::Test {
 protected:
  PlatVerdict check(std::string_view sender, const Tick& t) { return receiver.check(sender, t.z, t.hash, t.plat); }

  SyncSecret sync = SyncSecret::make(bytes_of("a sync secret of the tests"), bytes_of("group-1")).value();
  PlatReceiver receiver{&sync};

  static Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }
};

}  // namespace

// --- Vectors ----------------------------------------------------------------------

TEST(PlatChain, ChainsOfTheVectors) {
  EXPECT_EQ(to_hex(PLAT_ZERO), vectors()["plat_0"]);
  for (const auto& c : vectors()["chains"]) {
    SCOPED_TRACE(std::string(c["description"]));
    const SyncSecret sync = sync_of(c);
    PlatSender sender(sync);
    Plat prev = PLAT_ZERO;
    for (const auto& t : c["ticks"]) {
      const Digest32 h = hex_array<32>(t["digest_hash"]);
      const Plat p = plat_next(sync, prev, t["zeqond"], h);
      EXPECT_EQ(to_hex(p), t["plat"]);
      EXPECT_EQ(to_hex(sender.next(t["zeqond"], h)), t["plat"]);
      prev = p;
    }
    EXPECT_EQ(sender.restarts(), 0u);
  }
}

// The vector chains as a receiver sees them: the first starts from plat_0,
// the rest link; the other group's chain (same secret, other uid) does not.
TEST(PlatChain, ReceiverFollowsTheVectorChain) {
  const auto& chains = vectors()["chains"];
  const SyncSecret sync = sync_of(chains[0]);
  PlatReceiver receiver(&sync);
  std::vector<PlatVerdict> got;
  for (const auto& t : chains[0]["ticks"])
    got.push_back(receiver.check("zeq-aaaaaaaaaaaa", t["zeqond"], hex_array<32>(t["digest_hash"]),
                                 hex_array<32>(t["plat"])));
  EXPECT_EQ(got, (std::vector<PlatVerdict>{PlatVerdict::kStarted, PlatVerdict::kLinked, PlatVerdict::kLinked,
                                           PlatVerdict::kLinked}));
  const auto& other = chains[1]["ticks"];
  EXPECT_EQ(receiver.check("zeq-bbbbbbbbbbbb", other[0]["zeqond"], hex_array<32>(other[0]["digest_hash"]),
                           hex_array<32>(other[0]["plat"])),
            PlatVerdict::kJoined);  // not a chain start of this group
  EXPECT_EQ(receiver.check("zeq-bbbbbbbbbbbb", other[1]["zeqond"], hex_array<32>(other[1]["digest_hash"]),
                           hex_array<32>(other[1]["plat"])),
            PlatVerdict::kBroken);
}

TEST(PlatChain, SyncSecretBounds) {
  const Bytes uid{'g'};
  EXPECT_FALSE(SyncSecret::make(Bytes(SYNC_SECRET_MIN_BYTES - 1, 1), uid));
  EXPECT_NE(SyncSecret::make(Bytes(15, 1), uid).message().find("ZEQ_SYNC_SECRET is 15 bytes"), std::string::npos);
  EXPECT_TRUE(SyncSecret::make(Bytes(SYNC_SECRET_MIN_BYTES, 1), uid));
  EXPECT_FALSE(SyncSecret::make(Bytes(SYNC_SECRET_MAX_BYTES + 1, 1), uid));
  EXPECT_NE(SyncSecret::make(Bytes(32, 1), Bytes{}).message().find("ZEQ_SYNC_UID is 0 bytes"), std::string::npos);
  EXPECT_FALSE(SyncSecret::make(Bytes(32, 1), Bytes(SYNC_UID_MAX_BYTES + 1, 'u')));
  EXPECT_TRUE(SyncSecret::make(Bytes(32, 1), Bytes(SYNC_UID_MAX_BYTES, 'u')));
}

// Every input of the HMAC changes the PLAT.
TEST(PlatChain, EveryInputCounts) {
  const SyncSecret a = SyncSecret::make(Bytes(32, 1), Bytes{'g'}).value();
  const SyncSecret other_secret = SyncSecret::make(Bytes(32, 2), Bytes{'g'}).value();
  const SyncSecret other_uid = SyncSecret::make(Bytes(32, 1), Bytes{'h'}).value();
  const Plat base = plat_next(a, PLAT_ZERO, 5, hash_n(1));
  EXPECT_NE(plat_next(other_secret, PLAT_ZERO, 5, hash_n(1)), base);
  EXPECT_NE(plat_next(other_uid, PLAT_ZERO, 5, hash_n(1)), base);
  EXPECT_NE(plat_next(a, hash_n(9), 5, hash_n(1)), base);
  EXPECT_NE(plat_next(a, PLAT_ZERO, 6, hash_n(1)), base);
  EXPECT_NE(plat_next(a, PLAT_ZERO, 5, hash_n(2)), base);
  EXPECT_EQ(plat_next(a, PLAT_ZERO, 5, hash_n(1)), base);
}

// --- The sending end --------------------------------------------------------------

TEST(PlatChain, SenderRestartsWhenTheClockGoesBack) {
  const SyncSecret sync = SyncSecret::make(Bytes(32, 7), Bytes{'g'}).value();
  PlatSender sender(sync);
  const Plat p1 = sender.next(100, hash_n(1));
  EXPECT_EQ(p1, plat_next(sync, PLAT_ZERO, 100, hash_n(1)));
  EXPECT_EQ(sender.next(102, hash_n(2)), plat_next(sync, p1, 102, hash_n(2)));
  EXPECT_EQ(sender.next(102, hash_n(3)), plat_next(sync, PLAT_ZERO, 102, hash_n(3)));  // same Zeqond again
  EXPECT_EQ(sender.restarts(), 1u);
  EXPECT_EQ(sender.next(90, hash_n(4)), plat_next(sync, PLAT_ZERO, 90, hash_n(4)));
  EXPECT_EQ(sender.restarts(), 2u);
}

// --- The receiving end --------------------------------------------------------------

TEST_F(PlatReceiverTest, LinkedTicksAndPagesOfOneTick) {
  const auto ticks = ticks_of(sync, 1000, 5);
  EXPECT_EQ(check("a", ticks[0]), PlatVerdict::kStarted);
  EXPECT_EQ(check("a", ticks[0]), PlatVerdict::kSameTick);  // the tick's second page
  for (size_t i = 1; i < ticks.size(); ++i) EXPECT_EQ(check("a", ticks[i]), PlatVerdict::kLinked);
  const auto* head = receiver.head("a");
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->zeqond, ticks.back().z);
  EXPECT_EQ(head->plat, ticks.back().plat);
  EXPECT_EQ(head->counts[size_t(PlatVerdict::kLinked)], 4u);
  EXPECT_EQ(receiver.count(PlatVerdict::kSameTick), 1u);
  for (size_t v = 0; v < PLAT_VERDICT_COUNT; ++v)
    if (plat_flagged(PlatVerdict(v))) {
      EXPECT_EQ(receiver.count(PlatVerdict(v)), 0u);
    }
}

TEST_F(PlatReceiverTest, MissingPlatIsFlaggedAndTheHeadStays) {
  const auto ticks = ticks_of(sync, 1000, 3);
  EXPECT_EQ(check("a", ticks[0]), PlatVerdict::kStarted);
  EXPECT_EQ(receiver.check("a", ticks[1].z, ticks[1].hash, std::nullopt), PlatVerdict::kMissing);
  EXPECT_EQ(receiver.head("a")->zeqond, ticks[0].z);
  EXPECT_EQ(check("a", ticks[1]), PlatVerdict::kLinked);
  EXPECT_EQ(receiver.check("new", 5, hash_n(1), std::nullopt), PlatVerdict::kMissing);
  EXPECT_EQ(receiver.head("new"), nullptr);
  EXPECT_TRUE(plat_flagged(PlatVerdict::kMissing));
}

TEST_F(PlatReceiverTest, RewoundZeqondIsFlaggedAndTheHeadStays) {
  const auto ticks = ticks_of(sync, 1000, 4);
  EXPECT_EQ(check("a", ticks[0]), PlatVerdict::kStarted);
  EXPECT_EQ(check("a", ticks[1]), PlatVerdict::kLinked);
  EXPECT_EQ(check("a", ticks[0]), PlatVerdict::kRewound);  // late: the chain's own first tick moves nothing
  // The same Zeqond with another hash (re-dated) is rewound too.
  EXPECT_EQ(receiver.check("a", ticks[1].z, hash_n(99), plat_next(sync, ticks[0].plat, ticks[1].z, hash_n(99))),
            PlatVerdict::kRewound);
  EXPECT_EQ(receiver.head("a")->plat, ticks[1].plat);
  EXPECT_EQ(check("a", ticks[2]), PlatVerdict::kLinked);
  EXPECT_EQ(receiver.count(PlatVerdict::kRewound), 2u);
}

// The sender's clock went back: it starts a chain again at an earlier
// Zeqond; flagged once, and the chain goes on from there.
TEST_F(PlatReceiverTest, ASenderWhoseClockWentBackIsFlaggedOnce) {
  PlatSender sender(sync);
  auto tick = [&](uint64_t z, uint8_t h) { return receiver.check("a", z, hash_n(h), sender.next(z, hash_n(h))); };
  EXPECT_EQ(tick(1000, 1), PlatVerdict::kStarted);
  EXPECT_EQ(tick(1002, 2), PlatVerdict::kLinked);
  EXPECT_EQ(tick(900, 3), PlatVerdict::kRewound);
  EXPECT_EQ(tick(902, 4), PlatVerdict::kLinked);
  EXPECT_EQ(receiver.count(PlatVerdict::kRewound), 1u);
  EXPECT_EQ(receiver.count(PlatVerdict::kBroken), 0u);
}

// A lost tick costs one flag; a forged one two (the forgery, then the
// sender's real next tick); then the chain links again.
TEST_F(PlatReceiverTest, BrokenChainLostAndForgedTicks) {
  const auto ticks = ticks_of(sync, 1000, 8);
  EXPECT_EQ(check("a", ticks[0]), PlatVerdict::kStarted);
  EXPECT_EQ(check("a", ticks[2]), PlatVerdict::kBroken);  // ticks[1] lost
  EXPECT_EQ(check("a", ticks[3]), PlatVerdict::kLinked);
  Tick forged = ticks[4];
  forged.plat[0] ^= 1;
  EXPECT_EQ(check("a", forged), PlatVerdict::kBroken);
  EXPECT_EQ(check("a", ticks[5]), PlatVerdict::kBroken);
  EXPECT_EQ(check("a", ticks[6]), PlatVerdict::kLinked);
  // The right PLAT with another digest hash (a tick altered on the way).
  Tick altered = ticks[7];
  altered.hash[5] ^= 0x40;
  EXPECT_EQ(check("a", altered), PlatVerdict::kBroken);
  EXPECT_EQ(receiver.count(PlatVerdict::kBroken), 4u);
  EXPECT_EQ(receiver.head("a")->counts[size_t(PlatVerdict::kBroken)], 4u);
}

// Each sender continues its own chain: B's ticks handed over as A's do not
// link, and a chain without the secret never does.
TEST_F(PlatReceiverTest, TicksSplicedBetweenSendersDoNotLink) {
  const auto a = ticks_of(sync, 1000, 4, 0);
  const auto b = ticks_of(sync, 1001, 4, 100);
  EXPECT_EQ(check("a", a[0]), PlatVerdict::kStarted);
  EXPECT_EQ(check("b", b[0]), PlatVerdict::kStarted);
  EXPECT_EQ(check("a", a[1]), PlatVerdict::kLinked);
  EXPECT_EQ(check("a", b[2]), PlatVerdict::kBroken);  // b's tick in a's stream
  const SyncSecret wrong = SyncSecret::make(Bytes(32, 0xee), Bytes{'g', 'r', 'o', 'u', 'p', '-', '1'}).value();
  const auto forged = ticks_of(wrong, 2000, 3);
  EXPECT_EQ(check("c", forged[0]), PlatVerdict::kJoined);  // first sight: the head, unproven
  EXPECT_EQ(check("c", forged[1]), PlatVerdict::kBroken);
  EXPECT_EQ(check("c", forged[2]), PlatVerdict::kBroken);
}

TEST_F(PlatReceiverTest, ARestartedSenderStartsANewChain) {
  const auto first = ticks_of(sync, 1000, 3);
  for (const auto& t : first) check("a", t);
  const auto again = ticks_of(sync, 1010, 2, 50);  // a new process, plat_0 again, later Zeqonds
  EXPECT_EQ(check("a", again[0]), PlatVerdict::kStarted);
  EXPECT_EQ(check("a", again[1]), PlatVerdict::kLinked);
}

TEST_F(PlatReceiverTest, ThisNodeRestartedJoinsMidChain) {
  const auto ticks = ticks_of(sync, 1000, 4);
  EXPECT_EQ(check("a", ticks[2]), PlatVerdict::kJoined);
  EXPECT_EQ(check("a", ticks[3]), PlatVerdict::kLinked);
  EXPECT_FALSE(plat_flagged(PlatVerdict::kJoined));
}

TEST(PlatChain, WithoutASecretNothingIsChecked) {
  PlatReceiver receiver(nullptr);
  EXPECT_FALSE(receiver.expects_plat());
  EXPECT_EQ(receiver.check("a", 1, hash_n(1), std::nullopt), PlatVerdict::kUnchecked);
  EXPECT_EQ(receiver.check("a", 2, hash_n(1), hash_n(7)), PlatVerdict::kUnchecked);
  EXPECT_EQ(receiver.senders(), 0u);
  EXPECT_EQ(receiver.count(PlatVerdict::kUnchecked), 2u);
  EXPECT_FALSE(plat_flagged(PlatVerdict::kUnchecked));
}

TEST(PlatChain, SendersAreBoundedAndForgotten) {
  const SyncSecret sync = SyncSecret::make(Bytes(32, 3), Bytes{'g'}).value();
  PlatReceiver receiver(&sync, 2);
  const auto t = ticks_of(sync, 10, 1);
  EXPECT_EQ(receiver.check("a", t[0].z, t[0].hash, t[0].plat), PlatVerdict::kStarted);
  EXPECT_EQ(receiver.check("b", t[0].z, t[0].hash, t[0].plat), PlatVerdict::kStarted);
  EXPECT_EQ(receiver.check("c", t[0].z, t[0].hash, t[0].plat), PlatVerdict::kUnchecked);
  EXPECT_EQ(receiver.senders(), 2u);
  receiver.forget("a");
  EXPECT_EQ(receiver.head("a"), nullptr);
  EXPECT_EQ(receiver.check("c", t[0].z, t[0].hash, t[0].plat), PlatVerdict::kStarted);
}

TEST(PlatChain, VerdictNames) {
  EXPECT_STREQ(plat_verdict_name(PlatVerdict::kLinked), "linked");
  EXPECT_STREQ(plat_verdict_name(PlatVerdict::kSameTick), "same_tick");
  EXPECT_STREQ(plat_verdict_name(PlatVerdict::kBroken), "broken");
  EXPECT_STREQ(plat_verdict_name(PlatVerdict::kRewound), "rewound");
  EXPECT_STREQ(plat_verdict_name(PlatVerdict::kMissing), "missing");
}

}  // namespace zeq
