// The daemon's RelayRecorder behind RelayEvents, on real state databases:
// relayed pairs become vpn_tunnels rows with the relay and the path, their
// counters are checkpointed, they settle by the integer billing rules, the
// relay's and the requester's rows agree, receipts are kept (and refused
// when too large or late), and a crash leaves rows settle_orphans settles.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "crypto/random.hpp"
#include "daemon/relay_recorder.hpp"
#include "store/schema.hpp"
#include "store/tunnel_store.hpp"
#include "store/vault.hpp"

namespace zeq {
namespace {

namespace fs = std::filesystem;

const std::string RELAY = "zeq-rrrrrrrrrrrr";
const std::string A = "zeq-aaaaaaaaaaaa";  // requester, pays
const std::string B = "zeq-bbbbbbbbbbbb";  // target
constexpr uint64_t START_Z = 1000;

// One node's real state: database file, vault, tunnel store and recorder.
struct State {
  static Database migrated(const fs::path& path) {
    auto d = Database::open(path.string());
    EXPECT_TRUE(d) << d.message();
    EXPECT_TRUE(migrate(*d));
    return std::move(d.value());
  }
  State(const fs::path& path, const SecretBuffer& key, const std::string& zid, const Clock& clock)
      : db(migrated(path)), vault(std::move(*Vault::open(db, key, 1000))), store(db, vault, zid),
        recorder(store, clock) {}
  int64_t count(const std::string& sql) {
    auto st = db.prepare(sql);
    EXPECT_TRUE(st && st->step());
    return st ? st->int64(0) : -1;
  }
  Database db;
  Vault vault;
  TunnelStore store;
  RelayRecorder recorder;
};

class RelayRecording : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("zeqvpn-relay-rec-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::array<uint8_t, 32> k{};
    random_fill(k);
    field_key_ = SecretBuffer(k);
    clock_.set_unix_us(zeqonds_to_us(START_Z));
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<State> state(const std::string& name, const std::string& zid) {
    return std::make_unique<State>(dir_ / name, field_key_, zid, clock_);
  }
  // The pair as the relay sees it (keeper RELAY, its row's peer A), or as a
  // client sees it (keeper `local`, peer the other end).
  static RelayedPair pair(uint64_t id, PricingUnit unit, uint64_t price, const std::string& local = RELAY) {
    RelayedPair p;
    p.pair_id = id;
    p.on_relay = local == RELAY;
    p.relay_zid = RELAY;
    p.requester_zid = A;
    p.target_zid = B;
    p.local_zid = local;
    p.peer_zid = local == RELAY ? A : (local == A ? B : A);
    if (p.on_relay) {
      p.requester_endpoint = *parse_udp_endpoint("198.51.100.1:51820");
      p.target_endpoint = *parse_udp_endpoint("198.51.100.2:51820");
    }
    p.unit = unit;
    p.price = price;
    p.started_z = START_Z;
    return p;
  }
  void advance(uint64_t zeqonds) { clock_.advance_us(zeqonds_to_us(int64_t(zeqonds))); }

  fs::path dir_;
  SecretBuffer field_key_;
  ManualClock clock_;
};

// Opened, counted every Zeqond, closed: one terminated row with the relay,
// the path, the bytes (tx = up, rx = down) and the per-GB charge rounded up.
TEST_F(RelayRecording, PairBecomesOneSettledRowPerGb) {
  auto r = state("relay.db", RELAY);
  r->recorder.pair_opened(pair(7, PricingUnit::kGb, 5));
  auto row_id = r->recorder.row_of(7);
  ASSERT_TRUE(row_id);
  EXPECT_FALSE(r->recorder.row_of(8));
  RelayedBytes bytes;
  for (uint64_t z = 1; z <= 2 * RelayRecorder::LEDGER_EVERY_Z; ++z) {
    bytes.up += 40'000'000;
    bytes.down += 2'000'000;
    r->recorder.pair_counters(7, bytes);
    advance(1);
    ASSERT_TRUE(r->recorder.checkpoint());
    auto row = r->store.get(*row_id);
    ASSERT_TRUE(row);
    EXPECT_EQ(uint64_t(row->tx_bytes), bytes.up);  // written every Zeqond
    EXPECT_EQ(uint64_t(row->rx_bytes), bytes.down);
  }
  // One signed ledger row per LEDGER_EVERY_Z, not one per Zeqond.
  EXPECT_EQ(r->count("SELECT count(*) FROM usage_ledger WHERE kind = 'checkpoint'"), 2);
  ASSERT_TRUE(r->recorder.checkpoint());  // nothing moved: nothing written
  EXPECT_EQ(r->count("SELECT count(*) FROM usage_ledger WHERE kind = 'checkpoint'"), 2);

  bytes.up += 1;  // 26 x 42 MB + 1 byte = 1.092 GB and a byte: two started GB
  r->recorder.pair_closed(7, bytes, START_Z + 30, "closed");
  EXPECT_FALSE(r->recorder.row_of(7));
  auto rows = r->store.list();
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  const TunnelRow& row = (*rows)[0];
  EXPECT_EQ(row.id, *row_id);
  EXPECT_EQ(row.state, "terminated");
  EXPECT_EQ(row.peer_zid, A);
  EXPECT_EQ(row.local_zid, RELAY);
  EXPECT_EQ(row.initiator_zid, A);
  EXPECT_EQ(row.relay_zid, RELAY);
  EXPECT_EQ(row.multi_hop_chain, A + ">" + B);
  EXPECT_EQ(row.pricing_unit, "gb");
  EXPECT_EQ(row.price_per_unit, 5);
  EXPECT_EQ(row.started_at, int64_t(START_Z));
  EXPECT_EQ(row.stopped_at, int64_t(START_Z + 30));
  EXPECT_EQ(uint64_t(row.tx_bytes), bytes.up);
  EXPECT_EQ(uint64_t(row.rx_bytes), bytes.down);
  EXPECT_EQ(bytes.total(), 1'092'000'001u);
  EXPECT_EQ(row.total_zeq_charged, 2 * 5);
  EXPECT_EQ(row.end_reason, "closed");
  EXPECT_EQ(r->count("SELECT count(*) FROM usage_ledger WHERE kind = 'settlement' AND cost = 10"), 1);
  // Late counters and a second close of the same pair change nothing.
  r->recorder.pair_counters(7, {1, 1});
  r->recorder.pair_closed(7, {1, 1}, START_Z + 40, "closed");
  EXPECT_EQ(r->store.get(*row_id)->total_zeq_charged, 10);
}

// Exactly 1 GB is one GB; per Zeqond the charge is (stop - start) x price.
TEST_F(RelayRecording, ChargesAtTheBoundariesAndPerZeqond) {
  auto r = state("relay.db", RELAY);
  r->recorder.pair_opened(pair(1, PricingUnit::kGb, 9));
  r->recorder.pair_opened(pair(2, PricingUnit::kZeqond, 3));
  r->recorder.pair_opened(pair(3, PricingUnit::kGb, 9));
  const int64_t gb = *r->recorder.row_of(1), per_z = *r->recorder.row_of(2), nothing = *r->recorder.row_of(3);
  r->recorder.pair_closed(1, {600'000'000, 400'000'000}, START_Z + 5, "idle");
  r->recorder.pair_closed(2, {123, 456}, START_Z + 20, "client_gone");
  r->recorder.pair_closed(3, {0, 0}, START_Z + 5, "target_gone");
  EXPECT_EQ(r->store.get(gb)->total_zeq_charged, 9);
  EXPECT_EQ(r->store.get(per_z)->total_zeq_charged, 20 * 3);
  EXPECT_EQ(r->store.get(per_z)->pricing_unit, "zeqond");
  EXPECT_EQ(r->store.get(nothing)->total_zeq_charged, 0);
  EXPECT_EQ(r->store.get(per_z)->end_reason, "client_gone");
}

// The relay and the requester keep a row each; given the same counters and
// Zeqonds they agree on bytes and charge, column by column.
TEST_F(RelayRecording, RelayAndRequesterRowsAgree) {
  for (PricingUnit unit : {PricingUnit::kGb, PricingUnit::kZeqond}) {
    SCOPED_TRACE(to_string(unit));
    auto relay = state(std::string("relay-") + to_string(unit) + ".db", RELAY);
    auto requester = state(std::string("a-") + to_string(unit) + ".db", A);
    auto target = state(std::string("b-") + to_string(unit) + ".db", B);
    relay->recorder.pair_opened(pair(40, unit, 4));
    requester->recorder.pair_opened(pair(2, unit, 4, A));  // the client's own pair id
    target->recorder.pair_opened(pair(5, unit, 4, B));
    RelayedBytes bytes{1'500'000'000, 700'000'000};
    for (auto* s : {relay.get(), requester.get(), target.get()}) {
      uint64_t id = s == relay.get() ? 40 : s == requester.get() ? 2 : 5;
      s->recorder.pair_counters(id, {bytes.up / 2, bytes.down / 2});
      s->recorder.pair_closed(id, bytes, START_Z + 50, "closed");
    }
    TunnelRow on_relay = (*relay->store.list())[0], on_a = (*requester->store.list())[0],
              on_b = (*target->store.list())[0];
    EXPECT_EQ(on_relay.peer_zid, A);
    EXPECT_EQ(on_a.peer_zid, B);
    EXPECT_EQ(on_b.peer_zid, A);
    for (const TunnelRow* row : {&on_a, &on_b}) {
      EXPECT_EQ(row->initiator_zid, on_relay.initiator_zid);
      EXPECT_EQ(row->relay_zid, on_relay.relay_zid);
      EXPECT_EQ(row->multi_hop_chain, on_relay.multi_hop_chain);
      EXPECT_EQ(row->tx_bytes, on_relay.tx_bytes);
      EXPECT_EQ(row->rx_bytes, on_relay.rx_bytes);
      EXPECT_EQ(row->total_zeq_charged, on_relay.total_zeq_charged);
      EXPECT_EQ(row->state, "terminated");
    }
    EXPECT_EQ(on_relay.total_zeq_charged, unit == PricingUnit::kGb ? 3 * 4 : 50 * 4);
  }
}

// Receipts are kept byte for byte with the row of an open pair; one over
// 512 bytes, an empty one, one for a closed or unknown row are refused (and
// the schema's CHECKs refuse what gets past the code).
TEST_F(RelayRecording, ReceiptsKeptAndRefused) {
  auto r = state("relay.db", RELAY);
  r->recorder.pair_opened(pair(3, PricingUnit::kGb, 1));
  const int64_t id = *r->recorder.row_of(3);
  Bytes receipt(200);
  random_fill(receipt);
  r->recorder.receipt(3, receipt, {1000, 2000}, START_Z + 13);
  r->recorder.receipt(3, Bytes(MAX_RELAY_RECEIPT_BYTES + 1, 7), {1100, 2100}, START_Z + 14);  // logged, not kept
  r->recorder.receipt(99, receipt, {1, 1}, START_Z + 14);                                     // no such pair
  auto kept = r->store.receipts(id);
  ASSERT_TRUE(kept) << kept.message();
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].receipt, receipt);
  EXPECT_EQ((*kept)[0].up_bytes, 1000);
  EXPECT_EQ((*kept)[0].down_bytes, 2000);
  EXPECT_EQ((*kept)[0].zeqond, int64_t(START_Z + 13));
  EXPECT_EQ((*kept)[0].tunnel_id, id);

  Status big = r->store.add_receipt(id, Bytes(513, 1), 1, 1, START_Z);
  ASSERT_FALSE(big);
  EXPECT_NE(big.message().find("513 bytes (at most 512"), std::string::npos) << big.message();
  EXPECT_TRUE(r->store.add_receipt(id, Bytes(512, 1), 1, 1, START_Z));  // the limit itself is fine
  EXPECT_FALSE(r->store.add_receipt(id, Bytes(), 1, 1, START_Z));
  Status unknown = r->store.add_receipt(id + 100, receipt, 1, 1, START_Z);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.message().find("does not exist"), std::string::npos) << unknown.message();

  r->recorder.pair_closed(3, {1200, 2200}, START_Z + 20, "closed");
  Status late = r->store.add_receipt(id, receipt, 1200, 2200, START_Z + 21);
  ASSERT_FALSE(late);
  EXPECT_NE(late.message().find("is terminated"), std::string::npos) << late.message();
  r->recorder.receipt(3, receipt, {1200, 2200}, START_Z + 21);  // the pair is closed: not kept
  EXPECT_EQ(r->count("SELECT count(*) FROM relay_receipts"), 2);

  // The schema's own checks (a writer that skipped add_receipt).
  auto raw = [&](int64_t up, int64_t size) {
    auto st = r->db.prepare("INSERT INTO relay_receipts(tunnel_id, zeqond, up_bytes, down_bytes, receipt) "
                            "VALUES (?, 1, ?, 0, zeroblob(?))");
    EXPECT_TRUE(st);
    st->bind(1, id).bind(2, up).bind(3, size);
    return st->done();
  };
  EXPECT_FALSE(raw(-1, 10));
  EXPECT_FALSE(raw(1, 513));
  EXPECT_FALSE(raw(1, 0));
  EXPECT_TRUE(raw(1, 10));  // a well-formed row passes
  EXPECT_EQ(r->count("SELECT count(*) FROM relay_receipts"), 3);
  auto st = r->db.prepare("INSERT INTO relay_receipts(tunnel_id, zeqond, up_bytes, down_bytes, receipt) "
                          "VALUES (?, 1, 1, 1, 'text')");
  ASSERT_TRUE(st);
  st->bind(1, id);
  EXPECT_FALSE(st->done());  // a receipt is a blob
}

// The daemon dies with a pair open: the counters of the last checkpoint
// stay in the row, and settle_orphans at the next start settles it.
TEST_F(RelayRecording, CrashThenSettleOrphans) {
  int64_t id = 0;
  {
    auto r = state("relay.db", RELAY);
    r->recorder.pair_opened(pair(11, PricingUnit::kZeqond, 2));
    id = *r->recorder.row_of(11);
    r->recorder.pair_counters(11, {5000, 7000});
    advance(3);
    ASSERT_TRUE(r->recorder.checkpoint());
    r->recorder.pair_counters(11, {9000, 9000});  // never written: lost with the process
    // No pair_closed: the process is gone.
  }
  auto r = state("relay.db", RELAY);
  EXPECT_EQ(r->store.get(id)->state, "active");
  auto settled = r->store.settle_orphans(START_Z + 10);
  ASSERT_TRUE(settled) << settled.message();
  EXPECT_EQ(*settled, 1);
  auto row = r->store.get(id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->state, "terminated");
  EXPECT_EQ(row->tx_bytes, 5000);
  EXPECT_EQ(row->rx_bytes, 7000);
  EXPECT_EQ(row->total_zeq_charged, 10 * 2);
  EXPECT_EQ(row->end_reason, "daemon_stopped_unexpectedly");
  EXPECT_EQ(row->relay_zid, RELAY);
  EXPECT_EQ(row->multi_hop_chain, A + ">" + B);
}

// A store that refuses writes (a read-only connection, as a full disk would)
// is logged once with the file's path; the counters kept in memory land once
// it works again, and the recovery is logged once.
TEST_F(RelayRecording, FailingStoreIsLoggedOnceAndCountsLandLater) {
  auto r = state("relay.db", RELAY);
  r->recorder.pair_opened(pair(1, PricingUnit::kGb, 1));
  const int64_t id = *r->recorder.row_of(1);
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured)));
  ASSERT_TRUE(r->db.exec("PRAGMA query_only = 1"));
  for (uint64_t z = 1; z <= 4; ++z) {
    r->recorder.pair_counters(1, {z * 10, z});
    advance(1);
    EXPECT_FALSE(r->recorder.checkpoint());
  }
  EXPECT_EQ(r->store.get(id)->tx_bytes, 0);
  ASSERT_TRUE(r->db.exec("PRAGMA query_only = 0"));
  EXPECT_TRUE(r->recorder.checkpoint());
  spdlog::set_default_logger(previous);
  EXPECT_EQ(r->store.get(id)->tx_bytes, 40);
  EXPECT_EQ(r->store.get(id)->rx_bytes, 4);
  std::string log = captured.str();
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("writing relayed usage failed"), 1u) << log;
  EXPECT_NE(log.find((dir_ / "relay.db").string()), std::string::npos) << log;
  EXPECT_EQ(count("again after 4 failed checkpoint(s)"), 1u) << log;
}

}  // namespace
}  // namespace zeq
