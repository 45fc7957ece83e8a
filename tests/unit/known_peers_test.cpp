// Peers the mesh directory vouches for (mesh/known_peers.cpp) and the
// packets held while a peer has no session (mesh/staged_packets.hpp): two
// SessionManagers exchange real handshakes; A learns C from C's record.
#include <gtest/gtest.h>

#include <set>

#include "core/constants.hpp"
#include "crypto/ed25519.hpp"
#include "identity/certificate.hpp"
#include "mesh/data_plane.hpp"
#include "mesh/staged_packets.hpp"
#include "mesh_test_node.hpp"
#include "protocol/wire.hpp"

namespace zeq {
namespace {

using test::fresh_identity;
using test::peer_settings_for;
using test::TestNode;

const Bytes kSecret(32, 0x42);

TEST(StagedPackets, HoldsTheNewest128OldestFirst) {
  StagedPackets staged;
  for (int i = 0; i < 130; ++i) {
    Bytes packet(20, uint8_t(i));
    EXPECT_EQ(staged.push(packet), i < int(StagedPackets::CAPACITY)) << i;
  }
  EXPECT_EQ(staged.size(), StagedPackets::CAPACITY);
  auto held = staged.take();
  ASSERT_EQ(held.size(), StagedPackets::CAPACITY);
  EXPECT_EQ(held.front()[0], 2);  // the two oldest made room
  EXPECT_EQ(held.back()[0], 129);
  EXPECT_EQ(staged.size(), 0u);
  staged.push(Bytes(3, 1));
  EXPECT_EQ(staged.clear(), 1u);
}

// The node-wide bound: peers' queues share a budget; once it is spent a
// peer can only replace its own oldest packets, and one with none held
// holds nothing (the handshake still starts: mesh/send.cpp). Whatever
// leaves a queue (taken, cleared, the peer gone) goes back to the budget.
TEST(StagedPackets, NodeBudgetBoundsAllPeersTogether) {
  auto budget = std::make_shared<StagedBudget>(5);
  auto a = std::make_unique<StagedPackets>(budget);
  StagedPackets b(budget), c(budget);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(a->push(Bytes(20, uint8_t(i))));
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(b.push(Bytes(20, uint8_t(10 + i))));
  EXPECT_EQ(budget->held(), 5u);
  EXPECT_FALSE(c.push(Bytes(20, 20))) << "nothing of c's to replace: dropped";
  EXPECT_EQ(c.size(), 0u);
  EXPECT_FALSE(b.push(Bytes(20, 12))) << "b replaces its own oldest";
  auto held = b.take();
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(held[0][0], 11);
  EXPECT_EQ(held[1][0], 12);
  EXPECT_EQ(budget->held(), 3u);
  EXPECT_TRUE(c.push(Bytes(20, 21)));
  EXPECT_EQ(a->clear(), 3u);
  EXPECT_EQ(budget->held(), 1u);
  EXPECT_TRUE(a->push(Bytes(20, 4)));
  a.reset();  // a peer removed with a packet held
  EXPECT_EQ(budget->held(), 1u);
  EXPECT_EQ(StagedBudget().limit(), StagedBudget::NODE_CAPACITY);
}

// Peers by serial and by ZID through the plane's indexes, kept through
// additions and removals (one at a time and in a batch); names by a scan.
TEST(DataPlaneLookup, BySerialZidAndNameThroughAdditionsAndRemovals) {
  DataPlane plane(1, 1420);
  auto settings = [](const std::string& name, const std::string& zid) {
    PeerSettings s;
    s.name = name;
    s.zid = zid;
    return s;
  };
  Peer& a = plane.add_peer(settings("alpha", "zeq-aaaa"));
  Peer& b = plane.add_peer(settings("", "zeq-bbbb"));
  Peer& c = plane.add_peer(settings("gamma", "zeq-cccc"));
  EXPECT_EQ(plane.find_by_serial(a.serial), &a);
  EXPECT_EQ(plane.find_by_serial(c.serial), &c);
  EXPECT_EQ(plane.find_by_serial(c.serial + 100), nullptr);
  EXPECT_EQ(plane.find("zeq-bbbb"), &b);
  EXPECT_EQ(plane.find("gamma"), &c);
  EXPECT_EQ(plane.find("zeq-dddd"), nullptr);
  const uint64_t b_serial = b.serial;
  plane.remove_peer(b);
  EXPECT_EQ(plane.find_by_serial(b_serial), nullptr);
  EXPECT_EQ(plane.find("zeq-bbbb"), nullptr);
  Peer& d = plane.add_peer(settings("delta", "zeq-dddd"));
  EXPECT_NE(d.serial, b_serial) << "serials are never reused";
  plane.remove_peers({&a, &c});
  EXPECT_EQ(plane.find("zeq-aaaa"), nullptr);
  EXPECT_EQ(plane.find("alpha"), nullptr);
  EXPECT_EQ(plane.find_by_serial(d.serial), &d);
  EXPECT_EQ(plane.find("delta"), &d);
  EXPECT_EQ(plane.peers.size(), 1u);
}

class KnownPeers : public ::testing::Test {
 protected:
  KnownPeers() : a_id_(fresh_identity()), c_id_(fresh_identity()) {
    clock_.set_unix_us(1'800'000'000'000'000);
    ca_.key = ed25519_generate();
    ca_.name = "testmesh";
  }

  Certificate cert_for(const LocalIdentity& id, const char* address) {
    return test::certificate_for(id, ca_, address, address, clock_.zeqond() - 10, clock_.zeqond() + 100000);
  }
  std::shared_ptr<const TrustSettings> trust(std::optional<Certificate> own) {
    auto t = std::make_shared<TrustSettings>();
    t->store.add_ca(ca_.public_key());
    t->own = std::move(own);
    return t;
  }
  KnownPeer known_c(std::vector<const char*> endpoints) {
    KnownPeer k{cert_for(c_id_, "10.77.0.3/32"), {}};
    for (const char* e : endpoints) k.endpoints.push_back(*parse_udp_endpoint(e));
    return k;
  }
  // A's messages to C go to C and back, until neither has more to say.
  void deliver(TestNode& from, TestNode& to, const UdpEndpoint& from_ep) {
    auto msgs = std::move(from.sent);
    from.sent.clear();
    for (auto& m : msgs)
      if (m.bytes[0] == wire::kHandshakeInit || m.bytes[0] == wire::kHandshakeResponse)
        to.sessions->on_handshake_message(m.bytes, from_ep);
  }
  Peer* peer_c(TestNode& a) { return a.plane.find(c_id_.zid); }
  // A learns C from its record and a packet for C starts the handshake,
  // which C answers: A's tunnel to C is up.
  Peer* learn_and_connect(TestNode& a, TestNode& c, std::vector<const char*> endpoints = {"198.18.0.3:51820"}) {
    a.sessions->learn_peers({known_c(endpoints)});
    Peer* pc = peer_c(a);
    pc->wants_handshake.store(true);
    a.sessions->on_attention(*pc);
    deliver(a, c, a_from_);
    deliver(c, a, c_from_);
    EXPECT_TRUE(pc->current_owned);
    return pc;
  }

  ManualClock clock_{0, 1'000'000'000};
  LocalIdentity a_id_, c_id_;
  CaPrivateKey ca_;
  UdpEndpoint a_from_ = *parse_udp_endpoint("198.18.0.1:51820");
  UdpEndpoint c_from_ = *parse_udp_endpoint("198.18.0.3:51820");
};

TEST_F(KnownPeers, ALearntPeerIsRoutedAtOnceAndHandshakesOnlyOnDemand) {
  TestNode a(a_id_, {}, kSecret, clock_);
  a.sessions->apply_trust(trust(cert_for(a_id_, "10.77.0.1/32")));
  a.sessions->learn_peers({known_c({"198.18.0.3:51820", "192.0.2.3:51820"})});
  Peer* c = peer_c(a);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->certified_only);
  EXPECT_TRUE(c->from_directory);
  EXPECT_EQ(c->endpoint.load().to_string(), "198.18.0.3:51820");
  auto routes = a.plane.routable_prefixes(*c);
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].to_string(), "10.77.0.3/32");
  uint8_t dst[4] = {10, 77, 0, 3};
  EXPECT_EQ(a.plane.table()->lookup(4, dst), c);
  EXPECT_TRUE(a.sent.empty()) << "a learnt peer is not called until traffic for it arrives";
  // Learning the same record again changes nothing; a record from a CA the
  // node does not trust teaches nothing.
  a.sessions->learn_peers({known_c({"198.18.0.3:51820", "192.0.2.3:51820"})});
  EXPECT_EQ(a.plane.peers.size(), 1u);
}

TEST_F(KnownPeers, HeldPacketsGoOutOnceTheHandshakeCompletes) {
  TestNode a(a_id_, {}, kSecret, clock_);
  TestNode c(c_id_, {}, kSecret, clock_);
  a.sessions->apply_trust(trust(cert_for(a_id_, "10.77.0.1/32")));
  c.sessions->apply_trust(trust(cert_for(c_id_, "10.77.0.3/32")));
  a.sessions->learn_peers({known_c({"198.18.0.3:51820"})});
  Peer* pc = peer_c(a);
  // What a worker does with a packet for a peer without a session.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pc->staged.push(Bytes(60, uint8_t(0x45))));
  pc->wants_handshake.store(true);
  a.sessions->on_attention(*pc);
  ASSERT_EQ(a.sent.size(), 1u);
  EXPECT_EQ(a.sent[0].bytes[0], wire::kHandshakeInit);
  EXPECT_EQ(pc->staged.size(), 3u) << "held until a session exists";
  deliver(a, c, a_from_);  // C admits A by its certificate and answers
  ASSERT_EQ(c.sent.size(), 1u);
  deliver(c, a, c_from_);
  // A keepalive that confirms the key, then the three held packets.
  ASSERT_EQ(a.sent.size(), 4u);
  for (const auto& m : a.sent) EXPECT_EQ(m.bytes[0], wire::kData);
  EXPECT_EQ(pc->staged.size(), 0u);
}

TEST_F(KnownPeers, HeldPacketsAreDroppedAndCountedWhenTheHandshakeGivesUp) {
  TestNode a(a_id_, {}, kSecret, clock_);
  a.sessions->apply_trust(trust(cert_for(a_id_, "10.77.0.1/32")));
  a.sessions->learn_peers({known_c({"198.18.0.3:51820", "198.18.1.3:51820"})});
  Peer* pc = peer_c(a);
  pc->staged.push(Bytes(60, 0x45));
  pc->wants_handshake.store(true);
  a.sessions->on_attention(*pc);
  // Unanswered: each retry moves to the next endpoint the record lists.
  std::set<std::string> tried;
  for (int z = 0; z < int(HANDSHAKE_GIVE_UP_Z) + 8; ++z) {
    tried.insert(pc->endpoint.load().to_string());
    clock_.advance_us(TAU_ZQ_US);
    a.sessions->tick();
  }
  EXPECT_EQ(tried, (std::set<std::string>{"198.18.0.3:51820", "198.18.1.3:51820"}));
  EXPECT_TRUE(pc->gave_up);
  EXPECT_EQ(pc->staged.size(), 0u);
  EXPECT_EQ(a.plane.control_counters().drops[size_t(Drop::kNoSession)].load(), 1u);
  EXPECT_EQ(a.plane.peers.size(), 1u) << "a learnt peer stays while its record does";
}

TEST_F(KnownPeers, AQuietTunnelGoesIdleAndAYamlPeerNever) {
  TestNode a(a_id_, {}, kSecret, clock_);
  TestNode c(c_id_, {peer_settings_for(a_id_, "198.18.0.1:51820", "10.77.0.1/32")}, kSecret, clock_);
  a.sessions->apply_trust(trust(cert_for(a_id_, "10.77.0.1/32")));
  c.sessions->apply_trust(trust(cert_for(c_id_, "10.77.0.3/32")));
  a.sessions->set_known_peer_idle(5);
  c.sessions->set_known_peer_idle(5);
  Peer* pc = learn_and_connect(a, c);
  // C learns A from the directory too, but A is C's YAML peer: never idle there.
  c.sessions->learn_peers({KnownPeer{cert_for(a_id_, "10.77.0.1/32"), {a_from_}}});
  Peer* pa = c.plane.find(a_id_.zid);
  ASSERT_TRUE(pa->from_directory);
  ASSERT_FALSE(pa->certified_only);
  for (int z = 0; z < 8; ++z) {
    clock_.advance_us(TAU_ZQ_US);
    a.sessions->tick();
    c.sessions->tick();
  }
  EXPECT_FALSE(pc->current_owned) << "no IP packet for 5 Zeqonds: idle";
  EXPECT_EQ(pc->idle_teardowns, 1u);
  EXPECT_EQ(a.sessions->idle_teardowns(), 1u);
  EXPECT_EQ(a.plane.peers.size(), 1u) << "the peer and its routes stay";
  EXPECT_EQ(c.sessions->idle_teardowns(), 0u);
}

TEST_F(KnownPeers, GossipKeepsADirectoryPeersTunnelUp) {
  TestNode a(a_id_, {}, kSecret, clock_);
  TestNode c(c_id_, {}, kSecret, clock_);
  a.sessions->apply_trust(trust(cert_for(a_id_, "10.77.0.1/32")));
  c.sessions->apply_trust(trust(cert_for(c_id_, "10.77.0.3/32")));
  a.sessions->set_known_peer_idle(5);
  Peer* pc = learn_and_connect(a, c);
  for (int z = 0; z < 8; ++z) {
    clock_.advance_us(TAU_ZQ_US);
    pc->last_rx_us.store(clock_.mono_us());  // what a worker does for each packet (gossip here)
    a.sessions->tick();
  }
  EXPECT_TRUE(pc->current_owned);
  EXPECT_EQ(pc->idle_teardowns, 0u);
}

TEST_F(KnownPeers, APeerThatMovedIsFollowedAndOneWhoseRecordWentIsForgotten) {
  TestNode a(a_id_, {}, kSecret, clock_);
  TestNode c(c_id_, {}, kSecret, clock_);
  a.sessions->apply_trust(trust(cert_for(a_id_, "10.77.0.1/32")));
  c.sessions->apply_trust(trust(cert_for(c_id_, "10.77.0.3/32")));
  Peer* pc = learn_and_connect(a, c);
  // A new record without the address in use: the session follows it.
  a.sessions->learn_peers({known_c({"198.18.0.33:51820"})});
  EXPECT_EQ(pc->endpoint.load().to_string(), "198.18.0.33:51820");
  EXPECT_TRUE(pc->current_owned) << "the keys stay; only the address moved";
  // An address the peer's own packets taught (a NAT's) and no record lists
  // is not replaced by a record that does not list it either.
  pc->endpoint.store(*parse_udp_endpoint("203.0.113.9:40000"));
  a.sessions->learn_peers({known_c({"198.18.0.34:51820"})});
  EXPECT_EQ(pc->endpoint.load().to_string(), "203.0.113.9:40000");
  a.sessions->unlearn_peers({c_id_.zid});
  EXPECT_EQ(peer_c(a), nullptr);
}

TEST_F(KnownPeers, AYamlPeerKeepsItsKeyAndStaysWhenItsRecordGoes) {
  auto other = fresh_identity();
  PeerSettings yaml = peer_settings_for(other, "198.18.0.9:51820", "10.77.0.9/32");
  yaml.zid = c_id_.zid;  // the YAML names C's ZID with another key
  TestNode a(a_id_, {yaml}, kSecret, clock_);
  a.sessions->apply_trust(trust(cert_for(a_id_, "10.77.0.1/32")));
  a.sessions->learn_peers({known_c({"198.18.0.3:51820"})});
  ASSERT_EQ(a.plane.peers.size(), 1u);
  EXPECT_EQ(a.plane.peers[0]->key.public_key, other.keypair.public_key);
  EXPECT_FALSE(a.plane.peers[0]->from_directory);
  a.sessions->unlearn_peers({c_id_.zid});
  EXPECT_EQ(a.plane.peers.size(), 1u);
}

TEST_F(KnownPeers, AYamlPeersEndpointStaysTheOperators) {
  // The YAML gives C's public (NAT) address; C's record lists its private one.
  TestNode a(a_id_, {peer_settings_for(c_id_, "203.0.113.5:51820", "10.77.0.3/32")}, kSecret, clock_);
  a.sessions->apply_trust(trust(cert_for(a_id_, "10.77.0.1/32")));
  a.sessions->learn_peers({known_c({"10.0.1.5:51820"})});
  Peer* pc = peer_c(a);
  ASSERT_NE(pc, nullptr);
  EXPECT_TRUE(pc->from_directory);
  EXPECT_EQ(pc->endpoint.load().to_string(), "203.0.113.5:51820");
  EXPECT_TRUE(pc->known_endpoints.empty()) << "no rotation away from the YAML's endpoint";
}

TEST_F(KnownPeers, ManyPeersGoInOneBatch) {
  TestNode a(a_id_, {}, kSecret, clock_);
  a.sessions->apply_trust(trust(cert_for(a_id_, "10.77.0.1/32")));
  std::vector<KnownPeer> known;
  std::vector<std::string> zids;
  for (int i = 0; i < 50; ++i) {
    auto id = fresh_identity();
    std::string addr = "10.78.0." + std::to_string(i + 1) + "/32";
    known.push_back({cert_for(id, addr.c_str()), {*parse_udp_endpoint("198.18.0.9:51820")}});
    zids.push_back(id.zid);
  }
  a.sessions->learn_peers(known);
  ASSERT_EQ(a.plane.peers.size(), 50u);
  const PeerTable* before = a.plane.table();
  zids.resize(40);
  a.sessions->unlearn_peers(zids);
  EXPECT_EQ(a.plane.peers.size(), 10u);
  EXPECT_NE(a.plane.table(), before);
  uint8_t gone[4] = {10, 78, 0, 1}, kept[4] = {10, 78, 0, 45};
  EXPECT_EQ(a.plane.table()->lookup(4, gone), nullptr);
  EXPECT_NE(a.plane.table()->lookup(4, kept), nullptr);
}

}  // namespace
}  // namespace zeq
