// The control thread's handshake handling, driven in-process: a node fed the
// shared vector's message 1 at the vector's clock accepts it; replays, clock
// drift and unknown keys are refused and counted; two SessionManagers reach a
// session with each other.
#include <gtest/gtest.h>

#include "identity/zid.hpp"
#include "mesh_test_node.hpp"
#include "protocol/data_message.hpp"
#include "test_data.hpp"

namespace zeq {

using test::hex;
using test::hex_array;

using test::peer_settings_for;
using test::TestNode;
using MeshHandshake = test::VectorIdentities;

TEST_F(MeshHandshake, NodeAcceptsVectorInitiationAtVectorClock) {
  TestNode node(resp_, {peer_settings_for(init_, nullptr, "10.200.0.1/32")}, hex(v_["mesh_secret"]), clock_);
  node.sessions->on_handshake_message(hex(v_["handshake_init"]), from_);
  EXPECT_EQ(node.sessions->handshakes_answered(), 1u);
  EXPECT_EQ(node.sessions->handshakes_completed(), 0u);  // until the first data message confirms the key
  ASSERT_EQ(node.sent.size(), 1u);
  EXPECT_EQ(node.sent[0].bytes.size(), wire::RESPONSE_SIZE);
  EXPECT_EQ(node.sent[0].bytes[0], wire::kHandshakeResponse);
  EXPECT_EQ(node.sent[0].to, from_);
  Peer& peer = *node.plane.peers[0];
  EXPECT_TRUE(peer.next);                 // waits for key confirmation
  EXPECT_EQ(peer.current.load(), nullptr);
  EXPECT_EQ(peer.endpoint.load(), from_);  // learned from the handshake

  // The same message again is a replay.
  node.sessions->on_handshake_message(hex(v_["handshake_init"]), from_);
  EXPECT_EQ(node.sessions->rejects(HandshakeReject::kReplay), 1u);
  EXPECT_EQ(node.sent.size(), 1u);
}

TEST_F(MeshHandshake, NodeRejectsVectorInitiationTwoZeqondsLate) {
  clock_.advance_us(2 * TAU_ZQ_US);
  TestNode node(resp_, {peer_settings_for(init_, nullptr, "10.200.0.1/32")}, hex(v_["mesh_secret"]), clock_);
  node.sessions->on_handshake_message(hex(v_["handshake_init"]), from_);
  EXPECT_EQ(node.sessions->rejects(HandshakeReject::kClockDrift), 1u);
  EXPECT_TRUE(node.sent.empty());
}

TEST_F(MeshHandshake, NodeRejectsUnlistedKeyAndWrongZid) {
  LocalIdentity stranger = test::fresh_identity();
  TestNode node(resp_, {peer_settings_for(stranger, nullptr, "10.200.0.1/32")}, hex(v_["mesh_secret"]), clock_);
  node.sessions->on_handshake_message(hex(v_["handshake_init"]), from_);
  EXPECT_EQ(node.sessions->rejects(HandshakeReject::kUnknownPeer), 1u);

  PeerSettings wrong_zid = peer_settings_for(init_, nullptr, "10.200.0.1/32");
  wrong_zid.zid = "zeq-000000000000";
  TestNode node2(resp_, {wrong_zid}, hex(v_["mesh_secret"]), clock_);
  node2.sessions->on_handshake_message(hex(v_["handshake_init"]), from_);
  EXPECT_EQ(node2.sessions->rejects(HandshakeReject::kKeyMismatch), 1u);
  EXPECT_TRUE(node.sent.empty());
  EXPECT_TRUE(node2.sent.empty());
}

TEST_F(MeshHandshake, TwoNodesReachASessionAndRotateOnRekey) {
  Bytes secret = hex(v_["mesh_secret"]);
  TestNode a(init_, {peer_settings_for(resp_, "198.18.0.2:51820", "10.200.0.2/32")}, secret, clock_);
  TestNode b(resp_, {peer_settings_for(init_, nullptr, "10.200.0.1/32")}, secret, clock_);
  a.sessions->start_all();
  ASSERT_EQ(a.sent.size(), 1u);
  b.sessions->on_handshake_message(a.sent[0].bytes, from_);
  ASSERT_EQ(b.sent.size(), 1u);
  a.sessions->on_handshake_message(b.sent[0].bytes, *parse_udp_endpoint("198.18.0.2:51820"));
  Peer& pa = *a.plane.peers[0];
  Peer& pb = *b.plane.peers[0];
  ASSERT_NE(pa.current.load(), nullptr);
  ASSERT_EQ(a.sent.size(), 2u);  // the confirming keepalive
  EXPECT_EQ(a.sent[1].bytes.size(), wire::DATA_OVERHEAD);

  // B opens the keepalive with its `next` key, as a worker would.
  Bytes ka = a.sent[1].bytes;
  DataHeader h;
  ASSERT_TRUE(parse_data_header(ka, h));
  Keypair* kb = b.plane.index.lookup(h.receiver_index);
  ASSERT_NE(kb, nullptr);
  ASSERT_TRUE(open_data_message(kb->opener(0), ka.data(), ka.size()));
  kb->received_any = true;
  b.sessions->on_attention(pb);
  EXPECT_EQ(pb.current.load(), kb);

  // After REKEY_AFTER the initiator starts a new handshake; the old key stays
  // as `previous` once the new one is in.
  clock_.advance_us(zeqonds_to_us(REKEY_AFTER_Z));
  Keypair* old = pa.current.load();
  a.sessions->tick();
  ASSERT_EQ(a.sent.size(), 3u);
  EXPECT_EQ(a.sent[2].bytes[0], wire::kHandshakeInit);
  b.sessions->on_handshake_message(a.sent[2].bytes, from_);
  a.sessions->on_handshake_message(b.sent.back().bytes, *parse_udp_endpoint("198.18.0.2:51820"));
  EXPECT_NE(pa.current.load(), old);
  EXPECT_EQ(pa.previous.get(), old);
  EXPECT_EQ(pa.rekeys, 1u);

  // Past REJECT_AFTER without a new handshake every key is gone.
  clock_.advance_us(zeqonds_to_us(REJECT_AFTER_Z));
  a.sessions->tick();
  EXPECT_EQ(pa.previous, nullptr);
}

// A reload keeps the session of a peer that stays, routes the new peer's
// prefixes to it, and forgets the removed one.
TEST_F(MeshHandshake, ApplyPeersKeepsSessionsOfPeersThatStay) {
  Bytes secret = hex(v_["mesh_secret"]);
  PeerSettings b_cfg = peer_settings_for(resp_, "198.18.0.2:51820", "10.200.0.2/32");
  TestNode a(init_, {b_cfg}, secret, clock_);
  TestNode b(resp_, {peer_settings_for(init_, nullptr, "10.200.0.1/32")}, secret, clock_);
  a.sessions->start_all();
  b.sessions->on_handshake_message(a.sent.back().bytes, from_);
  a.sessions->on_handshake_message(b.sent.back().bytes, *parse_udp_endpoint("198.18.0.2:51820"));
  Keypair* session = a.plane.peers[0]->current.load();
  ASSERT_NE(session, nullptr);

  LocalIdentity c = test::fresh_identity();
  PeerSettings changed_b = b_cfg;
  changed_b.persistent_keepalive_s = 9;
  changed_b.allowed_ips.push_back(*parse_ip_prefix("10.201.0.0/16"));
  auto change = a.sessions->apply_peers({changed_b, peer_settings_for(c, nullptr, "10.200.0.3/32")});
  EXPECT_EQ(change.updated.size(), 1u);
  EXPECT_EQ(change.added.size(), 1u);
  EXPECT_TRUE(change.removed.empty());
  ASSERT_EQ(a.plane.peers.size(), 2u);
  Peer& pb = *a.plane.peers[0];
  EXPECT_EQ(pb.current.load(), session);  // same keys, same tunnel
  EXPECT_EQ(pb.settings.persistent_keepalive_s, 9);
  uint8_t in_new_prefix[4] = {10, 201, 7, 7}, at_c[4] = {10, 200, 0, 3};
  EXPECT_EQ(a.plane.table()->lookup(4, in_new_prefix), &pb);
  EXPECT_EQ(a.plane.table()->lookup(4, at_c), a.plane.peers[1].get());

  change = a.sessions->apply_peers({changed_b});
  EXPECT_EQ(change.removed.size(), 1u);
  EXPECT_EQ(change.unchanged, 1u);
  EXPECT_EQ(a.plane.table()->lookup(4, at_c), nullptr);
  EXPECT_EQ(a.plane.peers.size(), 1u);
  EXPECT_EQ(pb.current.load(), session);
}

// on_drop's trigger: a peer that never answers is given up after
// HANDSHAKE_GIVE_UP, and the drop clears when a handshake completes.
TEST_F(MeshHandshake, GiveUpMarksTheTunnelDroppedUntilItIsBack) {
  Bytes secret = hex(v_["mesh_secret"]);
  TestNode a(init_, {peer_settings_for(resp_, "198.18.0.2:51820", "10.200.0.2/32")}, secret, clock_);
  a.sessions->start_all();
  EXPECT_FALSE(a.sessions->any_tunnel_dropped());
  for (int64_t t = 0; t < zeqonds_to_us(HANDSHAKE_GIVE_UP_Z - 1); t += SessionManager::TICK_US) {
    clock_.advance_us(SessionManager::TICK_US);
    a.sessions->tick();
  }
  EXPECT_FALSE(a.sessions->any_tunnel_dropped());  // still retrying
  EXPECT_GE(a.sent.size(), size_t(HANDSHAKE_GIVE_UP_Z / HANDSHAKE_RETRY_Z) - 1);
  // Give-up is checked at the next retry (every 5 Z plus up to 0.333 s).
  for (int i = 0; i < SessionManager::TICKS_PER_ZEQOND * 2 * (HANDSHAKE_RETRY_Z + 1); ++i) {
    clock_.advance_us(SessionManager::TICK_US);
    a.sessions->tick();
  }
  EXPECT_TRUE(a.sessions->any_tunnel_dropped());
  a.sessions->set_admin_down(*a.plane.peers[0], true);  // the operator's choice is not a drop
  EXPECT_FALSE(a.sessions->any_tunnel_dropped());
  a.sessions->set_admin_down(*a.plane.peers[0], false);  // up again: a fresh attempt, no drop yet
  EXPECT_FALSE(a.sessions->any_tunnel_dropped());
  for (int64_t t = 0; t <= zeqonds_to_us(HANDSHAKE_GIVE_UP_Z + 2 * (HANDSHAKE_RETRY_Z + 1)); t += SessionManager::TICK_US) {
    clock_.advance_us(SessionManager::TICK_US);
    a.sessions->tick();
  }
  EXPECT_TRUE(a.sessions->any_tunnel_dropped());

  // Traffic for B starts a new attempt; the drop holds until B answers.
  TestNode b(resp_, {peer_settings_for(init_, nullptr, "10.200.0.1/32")}, secret, clock_);
  size_t before = a.sent.size();
  a.plane.peers[0]->wants_handshake = true;
  a.sessions->on_attention(*a.plane.peers[0]);
  ASSERT_EQ(a.sent.size(), before + 1);
  EXPECT_TRUE(a.sessions->any_tunnel_dropped());
  b.sessions->on_handshake_message(a.sent.back().bytes, from_);
  a.sessions->on_handshake_message(b.sent.back().bytes, *parse_udp_endpoint("198.18.0.2:51820"));
  EXPECT_FALSE(a.sessions->any_tunnel_dropped());
}

}  // namespace zeq
