// The control thread's handshake handling, driven in-process: a node fed the
// shared vector's message 1 at the vector's clock accepts it; replays, clock
// drift and unknown keys are refused and counted; two SessionManagers reach a
// session with each other.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "identity/zid.hpp"
#include "mesh/session_manager.hpp"
#include "crypto/random.hpp"
#include "mesh/tunnel_recorder.hpp"
#include "store/schema.hpp"
#include "store/tunnel_store.hpp"
#include "protocol/data_message.hpp"
#include "test_data.hpp"

namespace zeq {

using test::hex;
using test::hex_array;

namespace {

struct NullInbox : ControlInbox {
  bool deliver_handshake(ByteSpan, const UdpEndpoint&) override { return true; }
  void peer_needs_attention(uint64_t) override {}
  bool deliver_control(uint64_t, ByteSpan) override { return true; }
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

// Two nodes with real state databases: tunnel rows follow the sessions, and
// no session key, pre-shared key, static key or mesh secret of the run is
// anywhere in the database files.
TEST_F(MeshHandshake, TunnelRowsAreWrittenAndNoKeyReachesTheDatabase) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("zeqvpn-mesh-store-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::array<uint8_t, 32> field{};
  random_fill(field);
  SecretBuffer field_key(field);
  struct State {
    static Database migrated(const fs::path& path) {
      Database d = std::move(*Database::open(path.string()));
      EXPECT_TRUE(migrate(d));
      return d;
    }
    State(const fs::path& path, const SecretBuffer& key, const std::string& zid, const Clock& clock)
        : db(migrated(path)), vault(std::move(*Vault::open(db, key, 1000))), store(db, vault, zid),
          recorder(store, clock, zid) {}
    Database db;
    Vault vault;
    TunnelStore store;
    TunnelRecorder recorder;
  };

  Bytes secret = hex(v_["mesh_secret"]);
  TestNode a(init_, {peer_config(resp_, "198.18.0.2:51820", "10.200.0.2/32")}, secret, clock_);
  TestNode b(resp_, {peer_config(init_, nullptr, "10.200.0.1/32")}, secret, clock_);
  State sa(dir / "a.db", field_key, init_.zid, clock_), sb(dir / "b.db", field_key, resp_.zid, clock_);
  a.sessions->set_events(&sa.recorder);
  b.sessions->set_events(&sb.recorder);
  std::vector<Bytes> keys;
  auto keep = [&](const SessionKeys& k) {
    keys.emplace_back(k.send_key.span().begin(), k.send_key.span().end());
    keys.emplace_back(k.recv_key.span().begin(), k.recv_key.span().end());
  };
  a.sessions->observe_keys_for_tests(keep);
  b.sessions->observe_keys_for_tests(keep);

  const UdpEndpoint b_at = *parse_udp_endpoint("198.18.0.2:51820");
  auto handshake = [&] {
    b.sessions->on_handshake_message(a.sent.back().bytes, from_);
    a.sessions->on_handshake_message(b.sent.back().bytes, b_at);
    DataHeader h;  // B confirms with A's keepalive, as a worker would
    ASSERT_TRUE(parse_data_header(a.sent.back().bytes, h));
    Keypair* kb = b.plane.index.lookup(h.receiver_index);
    ASSERT_NE(kb, nullptr);
    kb->received_any = true;
    b.sessions->on_attention(*b.plane.peers[0]);
  };
  a.sessions->start_all();
  handshake();
  Peer& pa = *a.plane.peers[0];
  Peer& pb = *b.plane.peers[0];
  EXPECT_EQ(pa.tunnel_id, 1);
  EXPECT_EQ(pb.tunnel_id, 1);
  pa.rx_bytes += 5000;  // as if the workers had carried traffic
  clock_.advance_us(zeqonds_to_us(REKEY_AFTER_Z));
  a.sessions->tick();
  handshake();
  EXPECT_EQ(pa.rekeys, 1u);
  EXPECT_EQ(pa.tunnel_id, 1);  // a rekey is the same tunnel
  sa.recorder.checkpoint({&pa});  // records the bytes and when the rekey's handshake completed
  {
    auto st = sa.db.prepare("SELECT last_handshake_zeqond FROM peers WHERE zid = ?");
    ASSERT_TRUE(st);
    st->bind(1, resp_.zid);
    ASSERT_TRUE(st->step());
    EXPECT_EQ(uint64_t(st->int64(0)), clock_.zeqond());
  }
  a.sessions->set_admin_down(pa, true);
  b.sessions->set_admin_down(pb, true);

  auto rows = sa.store.list();
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].state, "terminated");
  EXPECT_EQ((*rows)[0].end_reason, "admin_down");
  EXPECT_EQ((*rows)[0].rx_bytes, 5000);
  EXPECT_EQ((*rows)[0].initiator_zid, init_.zid);
  EXPECT_EQ((*sb.store.list())[0].initiator_zid, init_.zid);

  ASSERT_EQ(keys.size(), 8u);  // two handshakes, both sides, both directions
  Key32 psk = pair_psk(secret, init_.zid, resp_.zid);
  keys.emplace_back(psk.span().begin(), psk.span().end());
  keys.push_back(secret);
  keys.emplace_back(field.begin(), field.end());
  keys.emplace_back(init_.keypair.private_key.span().begin(), init_.keypair.private_key.span().end());
  keys.emplace_back(resp_.keypair.private_key.span().begin(), resp_.keypair.private_key.span().end());
  std::string disk;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    disk.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_GT(disk.size(), 8192u);
  for (const auto& k : keys) {
    EXPECT_EQ(disk.find(std::string(k.begin(), k.end())), std::string::npos) << "raw key " << to_hex(k);
    EXPECT_EQ(disk.find(to_hex(k)), std::string::npos) << "hex key " << to_hex(k);
  }
  fs::remove_all(dir);
}

// A reload keeps the session of a peer that stays, routes the new peer's
// prefixes to it, and forgets the removed one.
TEST_F(MeshHandshake, ApplyPeersKeepsSessionsOfPeersThatStay) {
  Bytes secret = hex(v_["mesh_secret"]);
  PeerConfig b_cfg = peer_config(resp_, "198.18.0.2:51820", "10.200.0.2/32");
  TestNode a(init_, {b_cfg}, secret, clock_);
  TestNode b(resp_, {peer_config(init_, nullptr, "10.200.0.1/32")}, secret, clock_);
  a.sessions->start_all();
  b.sessions->on_handshake_message(a.sent.back().bytes, from_);
  a.sessions->on_handshake_message(b.sent.back().bytes, *parse_udp_endpoint("198.18.0.2:51820"));
  Keypair* session = a.plane.peers[0]->current.load();
  ASSERT_NE(session, nullptr);

  LocalIdentity c;
  c.keypair = x25519_generate();
  c.zid = zid_from_public_key(c.keypair.public_key);
  PeerConfig changed_b = b_cfg;
  changed_b.persistent_keepalive_s = 9;
  changed_b.allowed_ips.push_back(*parse_ip_prefix("10.201.0.0/16"));
  auto change = a.sessions->apply_peers({changed_b, peer_config(c, nullptr, "10.200.0.3/32")});
  EXPECT_EQ(change.updated.size(), 1u);
  EXPECT_EQ(change.added.size(), 1u);
  EXPECT_TRUE(change.removed.empty());
  ASSERT_EQ(a.plane.peers.size(), 2u);
  Peer& pb = *a.plane.peers[0];
  EXPECT_EQ(pb.current.load(), session);  // same keys, same tunnel
  EXPECT_EQ(pb.config.persistent_keepalive_s, 9);
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
  TestNode a(init_, {peer_config(resp_, "198.18.0.2:51820", "10.200.0.2/32")}, secret, clock_);
  a.sessions->start_all();
  EXPECT_FALSE(a.sessions->any_tunnel_dropped());
  for (int64_t t = 0; t < zeqonds_to_us(HANDSHAKE_GIVE_UP_Z - 1); t += TAU_ZQ_US / 8) {
    clock_.advance_us(TAU_ZQ_US / 8);
    a.sessions->tick();
  }
  EXPECT_FALSE(a.sessions->any_tunnel_dropped());  // still retrying
  EXPECT_GE(a.sent.size(), size_t(HANDSHAKE_GIVE_UP_Z / HANDSHAKE_RETRY_Z) - 1);
  // Give-up is checked at the next retry (every 5 Z plus up to 0.333 s).
  for (int i = 0; i < 8 * 2 * (HANDSHAKE_RETRY_Z + 1); ++i) {
    clock_.advance_us(TAU_ZQ_US / 8);
    a.sessions->tick();
  }
  EXPECT_TRUE(a.sessions->any_tunnel_dropped());
  a.sessions->set_admin_down(*a.plane.peers[0], true);  // the operator's choice is not a drop
  EXPECT_FALSE(a.sessions->any_tunnel_dropped());
  a.sessions->set_admin_down(*a.plane.peers[0], false);  // up again: a fresh attempt, no drop yet
  EXPECT_FALSE(a.sessions->any_tunnel_dropped());
  for (int64_t t = 0; t <= zeqonds_to_us(HANDSHAKE_GIVE_UP_Z + 2 * (HANDSHAKE_RETRY_Z + 1)); t += TAU_ZQ_US / 8) {
    clock_.advance_us(TAU_ZQ_US / 8);
    a.sessions->tick();
  }
  EXPECT_TRUE(a.sessions->any_tunnel_dropped());

  // Traffic for B starts a new attempt; the drop holds until B answers.
  TestNode b(resp_, {peer_config(init_, nullptr, "10.200.0.1/32")}, secret, clock_);
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
