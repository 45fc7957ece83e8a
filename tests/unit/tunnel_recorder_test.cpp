// The daemon's tunnel recorder behind TunnelEvents: two nodes' sessions
// driven in-process, each with a real state database.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "crypto/random.hpp"
#include "daemon/tunnel_recorder.hpp"
#include "mesh_test_node.hpp"
#include "protocol/data_message.hpp"
#include "store/schema.hpp"
#include "store/tunnel_store.hpp"
#include "store/vault.hpp"

namespace zeq {

using test::hex;
using test::peer_settings_for;
using test::TestNode;
using TunnelRecording = test::VectorIdentities;

namespace {
// One node's real state: database file, vault, tunnel store and recorder.
struct State {
  static Database migrated(const std::filesystem::path& path) {
    Database d = std::move(*Database::open(path.string()));
    EXPECT_TRUE(migrate(d));
    return d;
  }
  State(const std::filesystem::path& path, const SecretBuffer& key, const std::string& zid, const Clock& clock)
      : db(migrated(path)), vault(std::move(*Vault::open(db, key, 1000))), store(db, vault, zid),
        recorder(store, clock, zid, [](const std::string&) { return TunnelTerms{}; }) {}
  Database db;
  Vault vault;
  TunnelStore store;
  TunnelRecorder recorder;
};

// A fresh directory for a test's database files, removed when the test
// ends (also when it fails), and a random field key.
struct Scratch {
  explicit Scratch(const std::string& name)
      : dir(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(getpid()))) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    random_fill(field);
    field_key = SecretBuffer(field);
  }
  ~Scratch() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  std::array<uint8_t, 32> field{};
  SecretBuffer field_key;
};
}  // namespace

// Two nodes with real state databases: tunnel rows follow the sessions, and
// no session key, pre-shared key, static key or mesh secret of the run is
// anywhere in the database files.
TEST_F(TunnelRecording, RowsFollowSessionsAndNoKeyReachesTheDatabase) {
  Scratch scratch("zeqvpn-mesh-store");
  const auto& dir = scratch.dir;
  const auto& field = scratch.field;
  const SecretBuffer& field_key = scratch.field_key;
  Bytes secret = hex(v_["mesh_secret"]);
  TestNode a(init_, {peer_settings_for(resp_, "198.18.0.2:51820", "10.200.0.2/32")}, secret, clock_);
  TestNode b(resp_, {peer_settings_for(init_, nullptr, "10.200.0.1/32")}, secret, clock_);
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
  EXPECT_EQ(sa.recorder.tunnel_id(resp_.zid), 1);
  EXPECT_EQ(sb.recorder.tunnel_id(init_.zid), 1);
  pa.rx_bytes += 5000;  // as if the workers had carried traffic
  clock_.advance_us(zeqonds_to_us(REKEY_AFTER_Z));
  a.sessions->tick();
  handshake();
  EXPECT_EQ(pa.rekeys, 1u);
  EXPECT_EQ(sa.recorder.tunnel_id(resp_.zid), 1);  // a rekey is the same tunnel
  sa.recorder.checkpoint();  // records the bytes and when the rekey's handshake completed
  {
    auto st = sa.db.prepare("SELECT last_handshake_zeqond FROM peers WHERE zid = ?");
    ASSERT_TRUE(st);
    st->bind(1, resp_.zid);
    ASSERT_TRUE(st->step());
    EXPECT_EQ(uint64_t(st->int64(0)), clock_.zeqond());
  }
  a.sessions->set_admin_down(pa, true);
  b.sessions->set_admin_down(pb, true);

  EXPECT_EQ(sa.recorder.tunnel_id(resp_.zid), 0);  // closed
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
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    disk.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_GT(disk.size(), 8192u);
  for (const auto& k : keys) {
    EXPECT_EQ(disk.find(std::string(k.begin(), k.end())), std::string::npos) << "raw key " << to_hex(k);
    EXPECT_EQ(disk.find(to_hex(k)), std::string::npos) << "hex key " << to_hex(k);
  }
}

// The every-Zeqond checkpoint: moved counters are written each time, a signed
// ledger row only every LEDGER_EVERY_Z; a store that refuses writes (here a
// read-only connection, as a full disk would) is logged once, loses nothing
// already committed, and the counts kept in memory land once it works again.
TEST_F(TunnelRecording, CheckpointsEveryZeqondAndAFailingStoreIsLoggedOnce) {
  Scratch scratch("zeqvpn-recorder");
  const auto& dir = scratch.dir;
  const SecretBuffer& field_key = scratch.field_key;
  // Declared before the nodes: a node going away still reports its tunnel down.
  State sa(dir / "a.db", field_key, init_.zid, clock_);
  Bytes secret = hex(v_["mesh_secret"]);
  TestNode a(init_, {peer_settings_for(resp_, "198.18.0.2:51820", "10.200.0.2/32")}, secret, clock_);
  TestNode b(resp_, {peer_settings_for(init_, nullptr, "10.200.0.1/32")}, secret, clock_);
  a.sessions->set_events(&sa.recorder);
  a.sessions->start_all();
  b.sessions->on_handshake_message(a.sent.back().bytes, from_);
  a.sessions->on_handshake_message(b.sent.back().bytes, *parse_udp_endpoint("198.18.0.2:51820"));
  const int64_t id = sa.recorder.tunnel_id(resp_.zid);
  ASSERT_EQ(id, 1);
  Peer& pa = *a.plane.peers[0];
  auto ledger_rows = [&] {
    auto st = sa.db.prepare("SELECT count(*) FROM usage_ledger WHERE kind = 'checkpoint'");
    EXPECT_TRUE(st && st->step());
    return st->int64(0);
  };
  auto rx_in_row = [&] { return sa.store.get(id)->rx_bytes; };

  pa.rx_bytes += 1000;
  clock_.advance_us(zeqonds_to_us(1));
  EXPECT_TRUE(sa.recorder.checkpoint());
  EXPECT_EQ(rx_in_row(), 1000);
  EXPECT_EQ(ledger_rows(), 0);  // counters only, one Zeqond in
  for (int z = 0; z < int(TunnelRecorder::LEDGER_EVERY_Z); ++z) {
    pa.rx_bytes += 100;
    clock_.advance_us(zeqonds_to_us(1));
    EXPECT_TRUE(sa.recorder.checkpoint());
  }
  EXPECT_EQ(rx_in_row(), 1000 + 100 * int64_t(TunnelRecorder::LEDGER_EVERY_Z));
  EXPECT_EQ(ledger_rows(), 1);  // one signed row in LEDGER_EVERY_Z Zeqonds
  const int64_t committed = rx_in_row();

  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured)));
  ASSERT_TRUE(sa.db.exec("PRAGMA query_only = 1"));
  for (int z = 0; z < 5; ++z) {
    pa.rx_bytes += 10;
    clock_.advance_us(zeqonds_to_us(1));
    EXPECT_FALSE(sa.recorder.checkpoint());
  }
  EXPECT_EQ(rx_in_row(), committed);  // what was committed stays
  ASSERT_TRUE(sa.db.exec("PRAGMA query_only = 0"));
  EXPECT_TRUE(sa.recorder.checkpoint());
  EXPECT_TRUE(sa.recorder.checkpoint());
  spdlog::set_default_logger(previous);
  EXPECT_EQ(rx_in_row(), committed + 50);  // the counts kept in memory landed
  std::string log = captured.str();
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("writing tunnel usage failed"), 1u) << log;
  EXPECT_NE(log.find((dir / "a.db").string()), std::string::npos) << log;
  EXPECT_EQ(count("again after 5 failed checkpoint(s)"), 1u) << log;
  a.sessions->set_admin_down(pa, true);
  EXPECT_EQ(sa.store.get(id)->state, "terminated");
}

// Packets held while the handshake ran go out the moment it completes,
// before the observers write the tunnel's record; the record still counts
// them (and the keepalive that confirms the key), since it counts from the
// byte counters as they were before the key was published. So does the
// responder's record count the packet that confirmed its key.
TEST_F(TunnelRecording, PacketsHeldForTheHandshakeCountInTheTunnelsRecord) {
  Scratch scratch("zeqvpn-recorder-staged");
  const auto& dir = scratch.dir;
  const SecretBuffer& field_key = scratch.field_key;
  State sa(dir / "a.db", field_key, init_.zid, clock_), sb(dir / "b.db", field_key, resp_.zid, clock_);
  Bytes secret = hex(v_["mesh_secret"]);
  TestNode a(init_, {peer_settings_for(resp_, "198.18.0.2:51820", "10.200.0.2/32")}, secret, clock_);
  TestNode b(resp_, {peer_settings_for(init_, nullptr, "10.200.0.1/32")}, secret, clock_);
  a.sessions->set_events(&sa.recorder);
  b.sessions->set_events(&sb.recorder);
  Peer& pa = *a.plane.peers[0];
  Peer& pb = *b.plane.peers[0];
  Bytes packet(84, 0);  // an IPv4 echo request's size; the content is not looked at
  packet[0] = 0x45;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pa.staged.push(packet));
  a.sessions->start_all();
  const size_t sent_before = a.sent.size();
  b.sessions->on_handshake_message(a.sent.back().bytes, from_);
  a.sessions->on_handshake_message(b.sent.back().bytes, *parse_udp_endpoint("198.18.0.2:51820"));
  ASSERT_EQ(a.sent.size(), sent_before + 4) << "the keepalive and the three held packets";
  EXPECT_EQ(pa.staged.size(), 0u);
  const uint64_t tx = pa.tx_bytes.load();
  ASSERT_GT(tx, 3 * packet.size());
  const int64_t id = sa.recorder.tunnel_id(resp_.zid);
  ASSERT_EQ(id, 1);
  // B's worker opens A's keepalive under the new key (the bytes it counts,
  // then the confirmation), and the control thread brings B's tunnel up.
  DataHeader h;
  ASSERT_TRUE(parse_data_header(a.sent[sent_before].bytes, h));
  Keypair* kb = b.plane.index.lookup(h.receiver_index);
  ASSERT_NE(kb, nullptr);
  pb.rx_bytes += a.sent[sent_before].bytes.size();
  kb->received_any = true;
  b.sessions->on_attention(pb);
  const int64_t b_id = sb.recorder.tunnel_id(init_.zid);
  ASSERT_EQ(b_id, 1);
  clock_.advance_us(zeqonds_to_us(1));
  EXPECT_TRUE(sa.recorder.checkpoint());
  EXPECT_TRUE(sb.recorder.checkpoint());
  EXPECT_EQ(uint64_t(sa.store.get(id)->tx_bytes), tx);
  EXPECT_EQ(uint64_t(sb.store.get(b_id)->rx_bytes), pb.rx_bytes.load()) << "the confirming packet";
  a.sessions->set_admin_down(pa, true);
  b.sessions->set_admin_down(pb, true);
  EXPECT_EQ(uint64_t(sa.store.get(id)->tx_bytes), tx);
  EXPECT_EQ(uint64_t(sb.store.get(b_id)->rx_bytes), pb.rx_bytes.load());
}

}  // namespace zeq
