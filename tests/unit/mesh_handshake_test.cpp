// The control thread's handshake handling, driven in-process: a node fed the
// shared vector's message 1 at the vector's clock accepts it; replays, clock
// drift and unknown keys are refused and counted; two SessionManagers reach a
// session with each other.
#include <gtest/gtest.h>

#include "identity/zid.hpp"
#include "mesh/session_manager.hpp"
#include "protocol/data_message.hpp"
#include "test_data.hpp"

namespace zeq {

using test::hex;
using test::hex_array;

namespace {

struct NullInbox : ControlInbox {
  bool deliver_handshake(ByteSpan, const UdpEndpoint&) override { return true; }
  void peer_needs_attention(uint64_t) override {}
};

struct Sent {
  Bytes bytes;
  UdpEndpoint to;
};

// One node's control side without threads or sockets.
struct TestNode {
  TestNode(LocalIdentity id, const std::vector<PeerConfig>& peers, Bytes secret, const Clock& clock)
      : identity(std::move(id)), mesh(secret), plane(1, 1416) {
    plane.own_mac1_key = mac1_key_for(identity.keypair.public_key);
    plane.inbox = &inbox;
    for (const auto& p : peers) plane.add_peer(p);
    plane.publish_table();
    sessions = std::make_unique<SessionManager>(plane, identity, mesh, clock, [this](ByteSpan m, const UdpEndpoint& to) {
      sent.push_back({Bytes(m.begin(), m.end()), to});
      return true;
    });
  }
  ~TestNode() { sessions->shutdown(); }
  LocalIdentity identity;
  SecretBuffer mesh;
  NullInbox inbox;
  DataPlane plane;
  std::unique_ptr<SessionManager> sessions;
  std::vector<Sent> sent;
};

PeerConfig peer_config(const LocalIdentity& id, const char* endpoint, const char* allowed) {
  PeerConfig p;
  p.zid = id.zid;
  p.public_key = id.keypair.public_key;
  if (endpoint) p.endpoint = parse_udp_endpoint(endpoint);
  p.allowed_ips = {*parse_ip_prefix(allowed)};
  return p;
}

}  // namespace

class MeshHandshake : public ::testing::Test {
 protected:
  void SetUp() override {
    v_ = test::load_json("zeqvpn-vectors.json");
    init_.keypair = x25519_from_private(hex_array<32>(v_["initiator"]["static_private"]));
    init_.zid = v_["initiator"]["zid"];
    resp_.keypair = x25519_from_private(hex_array<32>(v_["responder"]["static_private"]));
    resp_.zid = v_["responder"]["zid"];
    clock_.set_unix_us(v_["unix_time_us"].get<int64_t>());
  }
  nlohmann::json v_;
  LocalIdentity init_, resp_;
  ManualClock clock_{0, 1'000'000'000};
  UdpEndpoint from_ = *parse_udp_endpoint("198.18.0.1:51820");
};

TEST_F(MeshHandshake, NodeAcceptsVectorInitiationAtVectorClock) {
  TestNode node(resp_, {peer_config(init_, nullptr, "10.200.0.1/32")}, hex(v_["mesh_secret"]), clock_);
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
  TestNode node(resp_, {peer_config(init_, nullptr, "10.200.0.1/32")}, hex(v_["mesh_secret"]), clock_);
  node.sessions->on_handshake_message(hex(v_["handshake_init"]), from_);
  EXPECT_EQ(node.sessions->rejects(HandshakeReject::kClockDrift), 1u);
  EXPECT_TRUE(node.sent.empty());
}

TEST_F(MeshHandshake, NodeRejectsUnlistedKeyAndWrongZid) {
  LocalIdentity stranger;
  stranger.keypair = x25519_generate();
  stranger.zid = zid_from_public_key(stranger.keypair.public_key);
  TestNode node(resp_, {peer_config(stranger, nullptr, "10.200.0.1/32")}, hex(v_["mesh_secret"]), clock_);
  node.sessions->on_handshake_message(hex(v_["handshake_init"]), from_);
  EXPECT_EQ(node.sessions->rejects(HandshakeReject::kUnknownPeer), 1u);

  PeerConfig wrong_zid = peer_config(init_, nullptr, "10.200.0.1/32");
  wrong_zid.zid = "zeq-000000000000";
  TestNode node2(resp_, {wrong_zid}, hex(v_["mesh_secret"]), clock_);
  node2.sessions->on_handshake_message(hex(v_["handshake_init"]), from_);
  EXPECT_EQ(node2.sessions->rejects(HandshakeReject::kKeyMismatch), 1u);
  EXPECT_TRUE(node.sent.empty());
  EXPECT_TRUE(node2.sent.empty());
}

TEST_F(MeshHandshake, TwoNodesReachASessionAndRotateOnRekey) {
  Bytes secret = hex(v_["mesh_secret"]);
  TestNode a(init_, {peer_config(resp_, "198.18.0.2:51820", "10.200.0.2/32")}, secret, clock_);
  TestNode b(resp_, {peer_config(init_, nullptr, "10.200.0.1/32")}, secret, clock_);
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

}  // namespace zeq
