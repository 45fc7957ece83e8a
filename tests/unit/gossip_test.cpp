// Directory gossip (directory/gossip.hpp): two record stores that meet only
// through the messages of protocol/directory_messages.hpp converge within a
// bounded number of Zeqonds with bounded bytes per call and per Zeqond;
// what a peer forges, floods or asks for is refused, counted and bounded.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/x25519.hpp"
#include "directory/gossip.hpp"
#include "directory/plat_chain.hpp"
#include "directory/record_store.hpp"
#include "identity/certificate.hpp"
#include "identity/zid.hpp"
#include "protocol/directory_messages.hpp"
#include "protocol/directory_record.hpp"
#include "directory_test_nodes.hpp"
#include "test_data.hpp"

namespace zeq {

namespace {

using test::hex_array;

using test::make_node;
using test::record_of;
using test::vector_ca;
using TestNode = test::DirectoryNode;
constexpr uint64_t NOW = test::DIRECTORY_NOW;

std::vector<TestNode> make_nodes(size_t n, const Ed25519Keypair& ca) {
  std::vector<TestNode> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(make_node(ca));
  return out;
}

// One node of a link: its store and the gossip it keeps with the other
// side, `peer` being the other side's ZID (the source of what it sends).
struct Side {
  Side(const Ed25519Keypair& ca, const SyncSecret* sync, std::string peer, size_t max_records = DEFAULT_MAX_RECORDS)
      : store(trust, max_records), plats(sync), gossip(GossipContext{store, digest, plats, sync}, std::move(peer)) {
    trust.add_ca(CaPublicKey{"ca", ca.public_key});
  }
  void hold(const Bytes& record, uint64_t z = NOW) {
    auto o = store.offer(record, z, "test");
    ASSERT_TRUE(o.accepted()) << o.detail;
    digest.invalidate();
  }

  TrustStore trust;
  RecordStore store;
  DigestHashCache digest;
  PlatReceiver plats;
  GossipPeer gossip;
};

// Bytes one side sent in one Zeqond, by message type.
struct Sent {
  size_t digest = 0, pull = 0, records = 0, messages = 0, summaries = 0;
};

// Two sides joined by a perfect link: every message is delivered at once.
class Link {
 public:
  Link(Side& a, Side& b) : sides_{&a, &b} {}

  // Both timers run at z, then every message they cause is delivered.
  void step(uint64_t z) {
    for (int s = 0; s < 2; ++s) send(s, z, sides_[s]->gossip.tick(z));
    for (int round = 0; round < 10'000 && (!inbox_[0].empty() || !inbox_[1].empty()); ++round) {
      for (int s = 0; s < 2; ++s) {
        if (inbox_[s].empty()) continue;
        const Bytes m = std::move(inbox_[s].front());
        inbox_[s].pop_front();
        auto out = sides_[s]->gossip.on_message(m, z);
        ASSERT_TRUE(out) << out.message();
        for (const auto& d : out->dropped) dropped_[s].push_back(d);
        for (const auto& v : {PlatVerdict::kMissing, PlatVerdict::kRewound, PlatVerdict::kBroken})
          if (out->plat == v) ++flags_[s];
        send(s, z, std::move(out->replies));
      }
    }
  }
  // Steps `per_z` times a Zeqond from z0 until the stores hold the same
  // records (or `max_z` Zeqonds passed); the Zeqonds it took.
  uint64_t run_until_converged(uint64_t z0, uint64_t max_z, int per_z = 4) {
    for (uint64_t i = 0; i < max_z; ++i) {
      for (int t = 0; t < per_z; ++t) step(z0 + i);
      if (converged()) return i + 1;
    }
    return max_z + 1;
  }
  bool converged() const {
    return sides_[0]->store.digest_hash() == sides_[1]->store.digest_hash();
  }

  const std::map<uint64_t, std::array<Sent, 2>>& sent() const { return sent_; }
  size_t max_call_bytes() const { return max_call_; }
  const std::vector<std::string>& dropped(int side) const { return dropped_[side]; }
  uint64_t flags(int side) const { return flags_[side]; }

 private:
  void send(int from, uint64_t z, std::vector<Bytes> msgs) {
    size_t call = 0;
    Sent& s = sent_[z][from];
    for (auto& m : msgs) {
      EXPECT_LE(m.size(), 2 + DIRECTORY_BODY_MAX);
      call += m.size();
      ++s.messages;
      if (m[1] == CONTROL_DIRECTORY_DIGEST) {
        s.digest += m.size();
        if (decode_digest_page(m).value().summary()) ++s.summaries;
      } else if (m[1] == CONTROL_DIRECTORY_PULL) {
        s.pull += m.size();
      } else {
        s.records += m.size();
      }
      inbox_[1 - from].push_back(std::move(m));
    }
    max_call_ = std::max(max_call_, call);
  }

  std::array<Side*, 2> sides_;
  std::array<std::deque<Bytes>, 2> inbox_;
  std::map<uint64_t, std::array<Sent, 2>> sent_;
  size_t max_call_ = 0;
  std::array<std::vector<std::string>, 2> dropped_;
  std::array<uint64_t, 2> flags_{};
};

SyncSecret test_sync(uint8_t fill = 0x42) {
  return SyncSecret::make(Bytes(32, fill), Bytes{'t', 'e', 's', 't'}).value();
}

// What one side may send in any one Zeqond: records within their budget,
// a tick's pages, and a pull per page received.
void expect_bounded(const Link& link) {
  for (const auto& [z, sides] : link.sent()) {
    for (const Sent& s : sides) {
      EXPECT_LE(s.records, GOSSIP_RECORD_BYTES_PER_Z) << "Zeqond " << z;
      EXPECT_LE(s.digest, GOSSIP_PAGES_PER_TICK * (2 + DIRECTORY_BODY_MAX)) << "Zeqond " << z;
      EXPECT_LE(s.pull, GOSSIP_PAGES_PER_TICK * (2 + DIRECTORY_BODY_MAX)) << "Zeqond " << z;
    }
  }
  EXPECT_LE(link.max_call_bytes(), GOSSIP_RECORD_BYTES_PER_ROUND + GOSSIP_PAGES_PER_TICK * (2 + DIRECTORY_BODY_MAX));
}

class GossipTest : public ::testing::Test {
 protected:
  Ed25519Keypair ca = vector_ca();
};

}  // namespace

// --- Convergence ------------------------------------------------------------------

// 1000 records from one store to an empty one through messages alone:
// within 25 Zeqonds, never more than the budgets in one Zeqond or call,
// and afterwards the two only exchange summaries.
TEST_F(GossipTest, AThousandRecordsConvergeWithinBoundedRoundsAndBytes) {
  const auto nodes = make_nodes(1000, ca);
  Side a(ca, nullptr, "zeq-bbbbbbbbbbbb"), b(ca, nullptr, "zeq-aaaaaaaaaaaa");
  for (const auto& n : nodes) a.hold(record_of(n, 1));
  ASSERT_EQ(a.store.size(), 1000u);
  Link link(a, b);
  const uint64_t took = link.run_until_converged(NOW, 60);
  std::printf("1000 records converged in %llu Zeqonds\n", static_cast<unsigned long long>(took));
  EXPECT_LE(took, 25u);
  ASSERT_TRUE(link.converged());
  EXPECT_EQ(b.store.size(), 1000u);
  EXPECT_EQ(b.store.count(OfferVerdict::kAccepted), 1000u);
  expect_bounded(link);
  size_t records_bytes = 0, all_bytes = 0, most_records_z = 0, most_z = 0;
  for (const auto& [z, sides] : link.sent()) {
    records_bytes += sides[0].records;
    most_records_z = std::max(most_records_z, sides[0].records);
    for (const Sent& s : sides) {
      all_bytes += s.records + s.digest + s.pull;
      most_z = std::max(most_z, s.records + s.digest + s.pull);
    }
  }
  std::printf("bytes: %zu in all, records %zu; at most %zu of records and %zu in all in a Zeqond one way, "
              "%zu in one call\n", all_bytes, records_bytes, most_records_z, most_z, link.max_call_bytes());
  EXPECT_LT(records_bytes, 1000u * 400);  // each record about once (~330 bytes each)
  EXPECT_EQ(b.gossip.stats().verdicts[size_t(OfferVerdict::kAccepted)], 1000u);
  EXPECT_LE(b.gossip.stats().verdicts[size_t(OfferVerdict::kReplayed)], 50u);
  for (const auto& n : {nodes[0], nodes[499], nodes[999]})
    EXPECT_EQ(b.store.find(n.zid())->source, "zeq-aaaaaaaaaaaa");  // b's name for a

  // In sync: summaries only, both ways, a few dozen bytes a tick.
  const uint64_t after = NOW + took + 1;
  for (uint64_t z = after; z < after + 3 * GOSSIP_TICK_EVERY_Z; ++z) link.step(z);
  const uint64_t z0 = after + GOSSIP_TICK_EVERY_Z;
  for (uint64_t z = z0; z < after + 3 * GOSSIP_TICK_EVERY_Z; ++z) {
    const auto& sides = link.sent().at(z);
    for (const Sent& s : sides) {
      EXPECT_EQ(s.records, 0u);
      EXPECT_EQ(s.pull, 0u);
      EXPECT_EQ(s.messages, s.summaries);
      EXPECT_LE(s.digest, 60u);
    }
  }
  EXPECT_LE(b.gossip.outstanding(), GOSSIP_OUTSTANDING_MAX);
  EXPECT_EQ(a.gossip.queued(), 0u);
}

// Both sides hold records the other lacks, and newer ones of shared ZIDs:
// they end with the union, each ZID at its highest sequence.
TEST_F(GossipTest, TwoWayMergeKeepsTheNewestOfEach) {
  const auto nodes = make_nodes(500, ca);
  Side a(ca, nullptr, "zeq-bbbbbbbbbbbb"), b(ca, nullptr, "zeq-aaaaaaaaaaaa");
  for (size_t i = 0; i < 300; ++i) a.hold(record_of(nodes[i], i >= 250 ? 2 : 1));
  for (size_t i = 200; i < 500; ++i) b.hold(record_of(nodes[i], i < 250 ? 2 : 1));
  Link link(a, b);
  const uint64_t took = link.run_until_converged(NOW, 40);
  EXPECT_LE(took, 20u);
  EXPECT_EQ(a.store.size(), 500u);
  EXPECT_EQ(b.store.size(), 500u);
  for (size_t i : {0u, 210u, 260u, 499u}) {
    const uint64_t want = (i >= 200 && i < 300) ? 2 : 1;
    EXPECT_EQ(a.store.find(nodes[i].zid())->record.node.sequence, want) << i;
    EXPECT_EQ(b.store.find(nodes[i].zid())->record.node.sequence, want) << i;
  }
  expect_bounded(link);
}

// With a sync secret on both sides every tick links; with different
// secrets every tick is flagged, and the records sync all the same (the
// PLAT does not vouch for records; their signatures do).
TEST_F(GossipTest, PlatChainsAlongTheWay) {
  const auto nodes = make_nodes(100, ca);
  {
    const SyncSecret sync = test_sync();
    Side a(ca, &sync, "zeq-bbbbbbbbbbbb"), b(ca, &sync, "zeq-aaaaaaaaaaaa");
    for (const auto& n : nodes) a.hold(record_of(n, 1));
    Link link(a, b);
    EXPECT_LE(link.run_until_converged(NOW, 30), 10u);
    for (uint64_t z = NOW + 11; z < NOW + 20; ++z) link.step(z);
    const auto& plat = b.gossip.stats().plat;
    EXPECT_EQ(plat[size_t(PlatVerdict::kStarted)], 1u);
    EXPECT_GT(plat[size_t(PlatVerdict::kLinked)], 4u);
    EXPECT_EQ(link.flags(0) + link.flags(1), 0u);
    EXPECT_EQ(b.plats.count(PlatVerdict::kBroken) + b.plats.count(PlatVerdict::kMissing), 0u);
    EXPECT_GE(b.plats.head("zeq-aaaaaaaaaaaa")->zeqond, NOW + 17);
  }
  {
    const SyncSecret mine = test_sync(1), theirs = test_sync(2);
    Side a(ca, &mine, "zeq-bbbbbbbbbbbb"), b(ca, &theirs, "zeq-aaaaaaaaaaaa");
    for (const auto& n : nodes) a.hold(record_of(n, 1));
    Link link(a, b);
    EXPECT_LE(link.run_until_converged(NOW, 30), 10u);
    for (uint64_t z = NOW + 11; z < NOW + 20; ++z) link.step(z);
    EXPECT_GT(b.gossip.stats().plat[size_t(PlatVerdict::kBroken)], 2u);
    EXPECT_GT(link.flags(1), 2u);
  }
  {
    // This node has a secret, the peer none: every tick flagged missing.
    const SyncSecret mine = test_sync();
    Side a(ca, nullptr, "zeq-bbbbbbbbbbbb"), b(ca, &mine, "zeq-aaaaaaaaaaaa");
    for (const auto& n : nodes) a.hold(record_of(n, 1));
    Link link(a, b);
    EXPECT_LE(link.run_until_converged(NOW, 30), 10u);
    EXPECT_EQ(b.gossip.stats().plat[size_t(PlatVerdict::kMissing)], b.gossip.stats().digest_pages_received);
  }
}

// A revocation list too big for one message travels in fragments; the
// receiver takes it and drops the node it revokes.
TEST_F(GossipTest, ARevocationListInFragmentsDropsTheRevokedNode) {
  const auto nodes = make_nodes(10, ca);
  Side a(ca, nullptr, "zeq-bbbbbbbbbbbb"), b(ca, nullptr, "zeq-aaaaaaaaaaaa");
  for (const auto& n : nodes) {
    a.hold(record_of(n, 1));
    b.hold(record_of(n, 1));
  }
  RevocationList list;
  list.serial = 3;
  list.issued_z = NOW;
  list.certificates.push_back(nodes[3].cert.fingerprint());
  for (int i = 0; i < 60; ++i) list.certificates.push_back(sha256(as_bytes("gone " + std::to_string(i))));
  std::sort(list.certificates.begin(), list.certificates.end());
  const Bytes list_record = revocation_list_record(sign_revocation_list(list, ca).value()).value().encoded;
  ASSERT_GT(list_record.size(), RECORD_WHOLE_MAX);
  auto outcome = a.store.offer(list_record, NOW, "ca");
  ASSERT_TRUE(outcome.accepted()) << outcome.detail;
  a.digest.invalidate();
  EXPECT_EQ(a.store.size(), 9u);

  Link link(a, b);
  EXPECT_LE(link.run_until_converged(NOW, 20), 4u);
  EXPECT_EQ(b.store.size(), 9u);
  EXPECT_EQ(b.store.find(nodes[3].zid()), nullptr);
  EXPECT_EQ(link.dropped(1), std::vector<std::string>{nodes[3].zid()});
  EXPECT_EQ(b.gossip.stats().fragments_received, record_fragment_count(list_record.size()));
  EXPECT_EQ(a.gossip.stats().fragments_sent, record_fragment_count(list_record.size()));
  EXPECT_EQ(b.gossip.reassembly_bytes(), 0u);
}

// A node's new record, pushed, arrives at the next call without waiting
// for a digest round.
TEST_F(GossipTest, APushedRecordGoesOutAtTheNextCall) {
  const auto nodes = make_nodes(5, ca);
  Side a(ca, nullptr, "zeq-bbbbbbbbbbbb"), b(ca, nullptr, "zeq-aaaaaaaaaaaa");
  for (const auto& n : nodes) a.hold(record_of(n, 1));
  Link link(a, b);
  ASSERT_LE(link.run_until_converged(NOW, 10), 3u);
  link.step(NOW + 10);  // digest ticks due: the next call has none
  a.hold(record_of(nodes[2], 2, NOW, 40000), NOW + 10);
  ASSERT_TRUE(a.gossip.push(nodes[2].zid()));
  EXPECT_FALSE(a.gossip.push("zeq-000000000000"));  // not held
  auto out = a.gossip.tick(NOW + 10);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0][1], CONTROL_DIRECTORY_RECORDS);
  for (const auto& m : out) ASSERT_TRUE(b.gossip.on_message(m, NOW + 10));
  EXPECT_EQ(b.store.find(nodes[2].zid())->record.node.sequence, 2u);
  EXPECT_EQ(b.gossip.stats().unsolicited, 1u);
}

// --- Bad input ----------------------------------------------------------------------

// 10 000 forged records from a peer: every one refused by the store and
// counted (per verdict, at the store and for the peer), the store unchanged.
TEST_F(GossipTest, TenThousandForgedRecordsAreRefusedAndCounted) {
  const auto held = make_nodes(10, ca);
  Side victim(ca, nullptr, "zeq-666666666666");
  for (const auto& n : held) victim.hold(record_of(n, 5));
  const Digest32 before = victim.store.digest_hash();

  const Bytes newer_of_held = record_of(held[0], 6);             // signature will be spoiled
  const TestNode stranger = make_node(ca);
  const Bytes strangers = record_of(stranger, 1);                // certificate signature spoiled
  const auto rogue_ca = ed25519_generate();
  const Bytes rogue = record_of(make_node(rogue_ca), 1);         // a CA nobody trusts
  const size_t cert_end = 7 + stranger.cert.encoded.size();      // after the CA's signature

  constexpr size_t FORGED = 10'000;
  std::array<size_t, 4> kinds{};
  auto forged = [&](size_t i) {
    Bytes r;
    switch (i % 4) {
      case 0:
        r = newer_of_held;
        r[r.size() - 1 - (i / 4) % 64] ^= uint8_t(1 << ((i / 256) % 8));
        break;
      case 1:
        r = rogue;
        break;
      case 2:
        r = strangers;
        r[cert_end - 1 - (i / 4) % 64] ^= 0x01;
        break;
      default:
        r = strangers;
        r.resize(1 + (i / 4) % (strangers.size() - 1));
        break;
    }
    ++kinds[i % 4];
    return r;
  };
  // Three to a message, 252 records a Zeqond (within GOSSIP_OFFERS_PER_Z).
  uint64_t z = NOW;
  size_t this_z = 0;
  for (size_t i = 0; i < FORGED; i += 3) {
    std::vector<Bytes> batch;
    for (size_t k = i; k < std::min(FORGED, i + 3); ++k) batch.push_back(forged(k));
    std::vector<ByteSpan> spans(batch.begin(), batch.end());
    auto out = victim.gossip.on_message(encode_records(spans).value(), z);
    ASSERT_TRUE(out) << out.message();
    EXPECT_TRUE(out->replies.empty());
    EXPECT_TRUE(out->accepted.empty());
    EXPECT_EQ(out->refused.size(), batch.size());
    if ((this_z += batch.size()) >= 252) ++z, this_z = 0;
  }
  const GossipStats& s = victim.gossip.stats();
  EXPECT_EQ(s.records_received, FORGED);
  EXPECT_EQ(s.over_budget, 0u);
  EXPECT_EQ(s.verdicts[size_t(OfferVerdict::kAccepted)], 0u);
  EXPECT_EQ(s.verdicts[size_t(OfferVerdict::kBadRecordSignature)], kinds[0]);
  EXPECT_EQ(s.verdicts[size_t(OfferVerdict::kUnknownIssuer)], kinds[1]);
  EXPECT_EQ(s.verdicts[size_t(OfferVerdict::kBadCertificateSignature)], kinds[2]);
  EXPECT_EQ(s.verdicts[size_t(OfferVerdict::kMalformed)], kinds[3]);
  size_t total = 0;
  for (auto n : s.verdicts) total += n;
  EXPECT_EQ(total, FORGED);
  EXPECT_EQ(victim.store.count(OfferVerdict::kBadRecordSignature), kinds[0]);
  EXPECT_EQ(victim.store.count(OfferVerdict::kAccepted), held.size());  // the test's own
  EXPECT_EQ(victim.store.digest_hash(), before);
  EXPECT_EQ(victim.store.size(), held.size());
  EXPECT_EQ(victim.store.find(held[0].zid())->record.node.sequence, 5u);
  EXPECT_EQ(s.unsolicited, FORGED - kinds[3]);  // the malformed ones name no record
  EXPECT_EQ(victim.gossip.reassembly_bytes(), 0u);
  EXPECT_EQ(victim.gossip.outstanding(), 0u);
}

// More records in one Zeqond than the store may check for a peer: the rest
// are dropped before any signature is verified, and counted.
TEST_F(GossipTest, RecordsBeyondTheZeqondsBudgetAreDropped) {
  Side victim(ca, nullptr, "zeq-666666666666");
  const Bytes rogue = record_of(make_node(ed25519_generate()), 1);
  for (size_t i = 0; i < 1000; ++i) ASSERT_TRUE(victim.gossip.on_message(encode_records({rogue}).value(), NOW));
  EXPECT_EQ(victim.gossip.stats().over_budget, 1000 - GOSSIP_OFFERS_PER_Z);
  EXPECT_EQ(victim.store.count(OfferVerdict::kUnknownIssuer), GOSSIP_OFFERS_PER_Z);
  ASSERT_TRUE(victim.gossip.on_message(encode_records({rogue}).value(), NOW + 1));
  EXPECT_EQ(victim.store.count(OfferVerdict::kUnknownIssuer), GOSSIP_OFFERS_PER_Z + 1);
}

// Digest pages full of ZIDs this node lacks: it pulls at most
// GOSSIP_OUTSTANDING_MAX in all, and asks again only after
// GOSSIP_PULL_RETRY_Z.
TEST_F(GossipTest, PullsAreBoundedAndRetriedLater) {
  Side victim(ca, nullptr, "zeq-666666666666");
  size_t pulled = 0, pulls = 0;
  auto feed = [&](uint64_t z) {
    for (uint16_t page = 0; page < 10; ++page) {
      DigestPage p;
      p.zeqond = z;
      p.record_count = 400;
      p.digest_hash.fill(0x77);
      p.page = page;
      p.pages = 10;
      for (size_t i = 0; i < DIGEST_PAGE_ENTRIES; ++i) {
        char zid[17];
        std::snprintf(zid, sizeof zid, "zeq-%012zx", size_t(page) * 100 + i);
        p.entries.push_back({zid, 1});
      }
      auto out = victim.gossip.on_message(encode_digest_page(p).value(), z);
      ASSERT_TRUE(out) << out.message();
      for (const auto& m : out->replies) {
        auto pull = decode_pull(m);
        ASSERT_TRUE(pull) << pull.message();
        EXPECT_LE(pull->zids.size(), DIGEST_PAGE_ENTRIES);
        pulled += pull->zids.size();
        ++pulls;
      }
    }
  };
  feed(NOW);
  EXPECT_EQ(pulled, GOSSIP_OUTSTANDING_MAX);
  EXPECT_EQ(victim.gossip.outstanding(), GOSSIP_OUTSTANDING_MAX);
  feed(NOW + 1);  // nothing new: all asked for already
  EXPECT_EQ(pulled, GOSSIP_OUTSTANDING_MAX);
  (void)victim.gossip.tick(NOW + GOSSIP_PULL_RETRY_Z);
  EXPECT_EQ(victim.gossip.outstanding(), 0u);
  feed(NOW + GOSSIP_PULL_RETRY_Z);
  EXPECT_EQ(pulled, 2 * GOSSIP_OUTSTANDING_MAX);
  EXPECT_EQ(victim.gossip.stats().records_pulled, pulled);
  EXPECT_EQ(victim.gossip.stats().pulls_sent, pulls);
}

// A peer pulling everything, over and over: the queue stays bounded, and
// what goes out stays within the budgets per call and per Zeqond.
TEST_F(GossipTest, PullFloodsAreServedWithinTheBudgets) {
  const auto nodes = make_nodes(300, ca);
  Side server(ca, nullptr, "zeq-666666666666");
  for (const auto& n : nodes) server.hold(record_of(n, 1));
  std::vector<std::string> zids;
  for (const auto& [zid, held] : server.store.records()) zids.push_back(zid);
  for (uint64_t z = NOW; z < NOW + 3; ++z) {
    size_t this_z = 0;
    for (int flood = 0; flood < 20; ++flood) {
      for (size_t from = 0; from < zids.size(); from += PULL_MAX_ZIDS) {
        PullRequest pull;
        pull.zids.assign(zids.begin() + long(from), zids.begin() + long(std::min(zids.size(), from + PULL_MAX_ZIDS)));
        auto out = server.gossip.on_message(encode_pull(pull).value(), z);
        ASSERT_TRUE(out) << out.message();
        size_t call = 0;
        for (const auto& m : out->replies) call += m.size();
        EXPECT_LE(call, GOSSIP_RECORD_BYTES_PER_ROUND);
        this_z += call;
        EXPECT_LE(server.gossip.queued(), GOSSIP_SEND_QUEUE_MAX);
      }
    }
    for (const auto& m : server.gossip.tick(z))
      if (m[1] == CONTROL_DIRECTORY_RECORDS) this_z += m.size();
    EXPECT_LE(this_z, GOSSIP_RECORD_BYTES_PER_Z);
    EXPECT_GT(this_z, GOSSIP_RECORD_BYTES_PER_Z - 2 * (2 + DIRECTORY_BODY_MAX));  // and uses it
  }
  EXPECT_GT(server.gossip.stats().requests_dropped, 0u);
}

// Records the store refuses are not pulled again from that peer for
// GOSSIP_REFUSED_RETRY_Z; a full store pulls no new ZIDs at all.
TEST_F(GossipTest, RefusedRecordsAreNotPulledAgainAndAFullStorePullsNothingNew) {
  const auto other_ca = ed25519_generate();
  const auto theirs = make_nodes(20, other_ca);
  Side a(ca, nullptr, "zeq-bbbbbbbbbbbb"), b(ca, nullptr, "zeq-aaaaaaaaaaaa");
  a.trust.add_ca(CaPublicKey{"other", other_ca.public_key});
  for (const auto& n : theirs) a.hold(record_of(n, 1));
  Link link(a, b);
  for (uint64_t z = NOW; z < NOW + 4; ++z) link.step(z);
  EXPECT_EQ(b.gossip.stats().verdicts[size_t(OfferVerdict::kUnknownIssuer)], 20u);
  const uint64_t pulled = b.gossip.stats().records_pulled;
  for (uint64_t z = NOW + 4; z < NOW + 40; ++z) link.step(z);
  EXPECT_EQ(b.gossip.stats().records_pulled, pulled);
  for (uint64_t z = NOW + GOSSIP_REFUSED_RETRY_Z; z < NOW + GOSSIP_REFUSED_RETRY_Z + 4; ++z) link.step(z);
  EXPECT_EQ(b.gossip.stats().records_pulled, 2 * pulled);

  const auto nodes = make_nodes(10, ca);
  Side c(ca, nullptr, "zeq-dddddddddddd"), full(ca, nullptr, "zeq-cccccccccccc", 3);
  for (const auto& n : nodes) c.hold(record_of(n, 1));
  for (size_t i = 0; i < 3; ++i) full.hold(record_of(nodes[i], 1));
  Link link2(c, full);
  for (uint64_t z = NOW; z < NOW + 6; ++z) link2.step(z);
  EXPECT_EQ(full.store.size(), 3u);
  EXPECT_EQ(full.gossip.stats().records_pulled, 0u);
  EXPECT_GT(full.gossip.stats().skipped_full, 0u);
}

TEST_F(GossipTest, MalformedAndForeignMessagesAreRefusedAndCounted) {
  Side victim(ca, nullptr, "zeq-666666666666");
  auto r = victim.gossip.on_message(Bytes{0x01, 0x02, 0x01}, NOW);  // an exit offer
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("not a directory message"), std::string::npos);
  r = victim.gossip.on_message(Bytes{0x01, CONTROL_DIRECTORY_PULL, 0x00, 0x00}, NOW);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("directory message from zeq-666666666666: directory pull byte 3 (m)"), std::string::npos);
  EXPECT_FALSE(victim.gossip.on_message(Bytes{}, NOW));
  EXPECT_EQ(victim.gossip.stats().malformed_messages, 3u);
  // A pull for what is not held sends nothing.
  PullRequest pull;
  pull.zids = {"zeq-0123456789ab"};
  auto out = victim.gossip.on_message(encode_pull(pull).value(), NOW);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->replies.empty());
  EXPECT_EQ(victim.gossip.stats().not_held, 1u);
}

TEST_F(GossipTest, DigestTicksArePagedAcrossTicks) {
  const auto nodes = make_nodes(500, ca);
  Side a(ca, nullptr, "zeq-bbbbbbbbbbbb");
  for (const auto& n : nodes) a.hold(record_of(n, 1));
  std::vector<DigestPage> pages;
  for (uint64_t z = NOW; z < NOW + 20; ++z)
    for (const auto& m : a.gossip.tick(z)) pages.push_back(decode_digest_page(m).value());
  // 500 entries, 40 a page: 13 pages a round, 4 a tick every 2 Zeqonds.
  ASSERT_GE(pages.size(), 26u);
  for (size_t i = 0; i < 13; ++i) {
    EXPECT_EQ(pages[i].page, i);
    EXPECT_EQ(pages[i].pages, 13u);
    EXPECT_EQ(pages[i].entries.size(), i < 12 ? 40u : 20u);
    EXPECT_EQ(pages[i].zeqond, NOW + 2 * (i / 4));
    if (i) {
      EXPECT_LT(pages[i - 1].entries.back().zid, pages[i].entries.front().zid);
    }
  }
  EXPECT_EQ(pages[13].page, 0u);  // the next round starts with the next tick
  EXPECT_EQ(pages[13].zeqond, NOW + 8);
  EXPECT_EQ(pages[13].entries.front().zid, pages[0].entries.front().zid);
  EXPECT_EQ(a.gossip.stats().digest_pages_sent, pages.size());
}

}  // namespace zeq
