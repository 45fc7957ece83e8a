// The state database on a real SQLite file: migrations, the ZSC vault (seal,
// open, tamper refusal, wrong key, audit chain), tunnel lifecycle rows, the
// signed usage ledger, crash recovery of active rows, and the integer billing
// rules at their boundaries.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "crypto/random.hpp"
#include "store/billing.hpp"
#include "store/database.hpp"
#include "store/schema.hpp"
#include "store/tunnel_store.hpp"
#include "store/vault.hpp"

namespace zeq {
namespace {

namespace fs = std::filesystem;

// Few PBKDF2 rounds keep the tests fast; the daemon uses the full count.
constexpr int TEST_ITERATIONS = 1000;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("zeqvpn-store-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "state.db").string();
    std::array<uint8_t, 32> k{};
    random_fill(k);
    field_key_ = SecretBuffer(k);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Database open_db() {
    auto db = Database::open(path_);
    EXPECT_TRUE(db) << db.message();
    EXPECT_TRUE(migrate(*db));
    return std::move(db.value());
  }

  // Every byte SQLite keeps on disk for this database: the file and its WAL.
  std::string disk_bytes() const {
    std::string all;
    for (const char* suffix : {"", "-wal", "-journal"}) {
      std::ifstream in(path_ + suffix, std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return all;
  }

  fs::path dir_;
  std::string path_;
  SecretBuffer field_key_;
};

TEST_F(StoreTest, MigratesOnceAndRefusesNewerSchema) {
  {
    Database db = open_db();
    EXPECT_EQ(*schema_version(db), SCHEMA_VERSION);
    auto st = db.prepare("PRAGMA journal_mode");
    ASSERT_TRUE(st && st->step());
    EXPECT_EQ(st->text(0), "wal");
    EXPECT_TRUE(migrate(db));  // idempotent
    ASSERT_TRUE(db.exec("PRAGMA user_version = 99"));
  }
  auto db = Database::open(path_);
  ASSERT_TRUE(db);
  Status s = migrate(*db);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("newer than this zeqvpnd understands"), std::string::npos) << s.message();
  EXPECT_EQ(fs::status(path_).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
}

// The pending migrations are one transaction: when a later one fails, the
// earlier ones are rolled back with it and the version stays as it was.
TEST_F(StoreTest, FailedMigrationLeavesTheDatabaseAtItsVersion) {
  {
    Database db = open_db();
    // A version 1 database whose owner made a table of migration 4's name.
    ASSERT_TRUE(db.exec("DROP TABLE relay_receipts; DROP TABLE directory_records; DROP TABLE directory_revocations; "
                        "DROP TABLE mesh_invites; DROP TABLE mesh_addresses; "
                        "CREATE TABLE mesh_invites (x); PRAGMA user_version = 1"));
  }
  auto db = Database::open(path_);
  ASSERT_TRUE(db);
  Status s = migrate(*db);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("from schema 1 to " + std::to_string(SCHEMA_VERSION) + " (step 4)"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("left at schema 1"), std::string::npos) << s.message();
  EXPECT_EQ(*schema_version(*db), 1);
  auto tables = db->prepare("SELECT count(*) FROM sqlite_master WHERE name IN ('directory_records', 'relay_receipts')");
  ASSERT_TRUE(tables && tables->step());
  EXPECT_EQ(tables->int64(0), 0) << "migrations 2 and 3 were not rolled back";
}

TEST_F(StoreTest, NestedTransactionsRollBackOnlyTheirPart) {
  Database db = open_db();
  ASSERT_TRUE(db.exec("CREATE TABLE t(v INTEGER)"));
  Status outer = db.transaction([&] {
    EXPECT_TRUE(db.exec("INSERT INTO t VALUES (1)"));
    Status inner = db.transaction([&] {
      EXPECT_TRUE(db.exec("INSERT INTO t VALUES (2)"));
      return Status::error("inner fails");
    });
    EXPECT_FALSE(inner);
    return Status::ok();
  });
  ASSERT_TRUE(outer) << outer.message();
  auto st = db.prepare("SELECT group_concat(v) FROM t");
  ASSERT_TRUE(st && st->step());
  EXPECT_EQ(st->text(0), "1");
}

TEST_F(StoreTest, VaultSealsOpensAndNeverStoresPlaintext) {
  Database db = open_db();
  auto vault = Vault::open(db, field_key_, TEST_ITERATIONS);
  ASSERT_TRUE(vault) << vault.message();
  std::array<uint8_t, 32> secret{};
  random_fill(secret);
  ASSERT_TRUE(vault->put("identity.private_key", secret, {"identity", "", 0}, "test", 100));
  auto back = vault->get("identity.private_key", "test", 101);
  ASSERT_TRUE(back) << back.message();
  EXPECT_TRUE(std::equal(secret.begin(), secret.end(), back->span().begin(), back->span().end()));
  EXPECT_TRUE(*vault->contains("identity.private_key"));
  EXPECT_FALSE(*vault->contains("dns.zeq-000000000000"));

  std::string disk = disk_bytes();
  EXPECT_EQ(disk.find(std::string(secret.begin(), secret.end())), std::string::npos);
  EXPECT_EQ(disk.find(to_hex(secret)), std::string::npos);
  EXPECT_EQ(disk.find(std::string(field_key_.span().begin(), field_key_.span().end())), std::string::npos);

  EXPECT_FALSE(vault->put("empty", {}, {"x", "", 0}, "test", 1));
  Bytes big(VAULT_MAX_VALUE + 1, 7);
  EXPECT_FALSE(vault->put("big", big, {"x", "", 0}, "test", 1));
  EXPECT_TRUE(vault->verify_audit_chain());
}

TEST_F(StoreTest, TamperedRowIsRefusedAndAudited) {
  Database db = open_db();
  auto vault = Vault::open(db, field_key_, TEST_ITERATIONS);
  ASSERT_TRUE(vault);
  Bytes value(32, 0x42);
  ASSERT_TRUE(vault->put("identity.private_key", value, {"identity", "", 0}, "test", 5));
  ASSERT_TRUE(db.exec("UPDATE zsc_secrets SET ciphertext = zeroblob(32) WHERE name = 'identity.private_key'"));
  auto r = vault->get("identity.private_key", "test", 6);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("failed authentication"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("identity.private_key"), std::string::npos);
  auto st = db.prepare("SELECT count(*) FROM zsc_audit WHERE action = 'secret_denied'");
  ASSERT_TRUE(st && st->step());
  EXPECT_EQ(st->int64(0), 1);

  // A value moved to another row's name (same key, other AAD) does not open.
  ASSERT_TRUE(vault->put("a", value, {"p", "", 0}, "test", 7));
  ASSERT_TRUE(vault->put("b", Bytes(32, 1), {"p", "", 0}, "test", 7));
  ASSERT_TRUE(db.exec("UPDATE zsc_secrets SET (ciphertext, iv, tag) = (SELECT ciphertext, iv, tag FROM zsc_secrets "
                      "WHERE name = 'a') WHERE name = 'b'"));
  EXPECT_FALSE(vault->get("b", "test", 8));
}

TEST_F(StoreTest, WrongFieldKeyIsReportedAtOpen) {
  {
    Database db = open_db();
    ASSERT_TRUE(Vault::open(db, field_key_, TEST_ITERATIONS));
  }
  Database db = open_db();
  std::array<uint8_t, 32> other{};
  random_fill(other);
  auto v = Vault::open(db, SecretBuffer(other), TEST_ITERATIONS);
  ASSERT_FALSE(v);
  EXPECT_NE(v.message().find("ZEQ_FIELD_KEY does not open the vault"), std::string::npos) << v.message();
}

// The three steps zeqvpnd uses to derive the key on another thread: a new
// vault stores its salt and check only at finish_open, a second opening
// derives on a thread of its own and reads what the first sealed, a wrong
// key is refused at finish_open, and an opening never derived is refused.
TEST_F(StoreTest, VaultOpensInThreeStepsWithTheKeyDerivedOnAnotherThread) {
  Database db = open_db();
  {
    auto opening = Vault::begin_open(db, TEST_ITERATIONS);
    ASSERT_TRUE(opening) << opening.message();
    auto salts = db.prepare("SELECT count(*) FROM meta WHERE key IN ('vault_salt', 'vault_check')");
    ASSERT_TRUE(salts && salts->step());
    EXPECT_EQ(salts->int64(0), 0) << "begin_open wrote to a new vault";
    opening->derive(field_key_);
    auto vault = Vault::finish_open(db, std::move(opening.value()));
    ASSERT_TRUE(vault) << vault.message();
    ASSERT_TRUE(vault->put("k", as_bytes("value"), {"test", "", 0}, "test", 1));
  }
  {
    auto opening = Vault::begin_open(db, TEST_ITERATIONS);
    ASSERT_TRUE(opening) << opening.message();
    std::thread derive([&] { opening->derive(field_key_); });
    derive.join();
    auto vault = Vault::finish_open(db, std::move(opening.value()));
    ASSERT_TRUE(vault) << vault.message();
    auto value = vault->get("k", "test", 2);
    ASSERT_TRUE(value) << value.message();
    EXPECT_EQ(std::string(value->span().begin(), value->span().end()), "value");
  }
  std::array<uint8_t, 32> other{};
  random_fill(other);
  auto wrong = Vault::begin_open(db, TEST_ITERATIONS);
  ASSERT_TRUE(wrong);
  wrong->derive(SecretBuffer(other));
  auto refused = Vault::finish_open(db, std::move(wrong.value()));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.message().find("ZEQ_FIELD_KEY does not open the vault"), std::string::npos) << refused.message();
  auto underived = Vault::begin_open(db, TEST_ITERATIONS);
  ASSERT_TRUE(underived);
  auto never = Vault::finish_open(db, std::move(underived.value()));
  ASSERT_FALSE(never);
  EXPECT_NE(never.message().find("PBKDF2 failed"), std::string::npos) << never.message();
}

// zeqvpnd starts deriving a new database's key before the file exists
// (Vault::begin_new): finish_open then stores that salt, so the next start
// opens the vault with the same key; and if another process made a vault in
// the file meanwhile, finish_open refuses instead of keeping a key that does
// not match the stored salt.
TEST_F(StoreTest, VaultBegunBeforeItsDatabaseExists) {
  {
    auto opening = Vault::begin_new(TEST_ITERATIONS);
    std::thread derive([&] { opening.derive(field_key_); });
    Database db = open_db();
    derive.join();
    auto vault = Vault::finish_open(db, std::move(opening));
    ASSERT_TRUE(vault) << vault.message();
    ASSERT_TRUE(vault->put("k", as_bytes("sealed at the first start"), {"test", "", 0}, "test", 1));
  }
  {
    Database db = open_db();
    auto vault = Vault::open(db, field_key_, TEST_ITERATIONS);
    ASSERT_TRUE(vault) << vault.message();
    auto value = vault->get("k", "test", 2);
    ASSERT_TRUE(value) << value.message();
    EXPECT_EQ(std::string(value->span().begin(), value->span().end()), "sealed at the first start");
  }
  auto late = Vault::begin_new(TEST_ITERATIONS);
  late.derive(field_key_);
  Database db = open_db();
  auto refused = Vault::finish_open(db, std::move(late));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.message().find("got a vault from another process while zeqvpnd started"), std::string::npos)
      << refused.message();
  EXPECT_TRUE(Vault::open(db, field_key_, TEST_ITERATIONS)) << "the vault in the file is untouched";
}

TEST_F(StoreTest, AuditChainDetectsEditedRows) {
  Database db = open_db();
  auto vault = Vault::open(db, field_key_, TEST_ITERATIONS);
  ASSERT_TRUE(vault);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(vault->put("s" + std::to_string(i), Bytes(8, uint8_t(i)), {"p", "", 0}, "t", 1));
  ASSERT_TRUE(vault->verify_audit_chain());
  ASSERT_TRUE(db.exec("UPDATE zsc_audit SET actor = 'mallory' WHERE id = 2"));
  EXPECT_FALSE(vault->verify_audit_chain());
}

TEST_F(StoreTest, TunnelLifecycleLedgerAndCrashRecovery) {
  int64_t id = 0;
  {
    Database db = open_db();
    auto vault = Vault::open(db, field_key_, TEST_ITERATIONS);
    ASSERT_TRUE(vault);
    TunnelStore tunnels(db, *vault, "zeq-aaaaaaaaaaaa");
    auto opened = tunnels.open_tunnel("zeq-bbbbbbbbbbbb", "zeq-aaaaaaaaaaaa", {PricingUnit::kZeqond, 3, false}, 1000);
    ASSERT_TRUE(opened) << opened.message();
    id = *opened;
    auto row = tunnels.get(id);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->state, "active");
    EXPECT_EQ(row->started_at, 1000);
    EXPECT_EQ(row->key_purpose_id, "vpn.tunnel." + std::to_string(id) + ".key");
    EXPECT_TRUE(*vault->contains(row->key_purpose_id));
    // Only pending -> active -> terminated.
    EXPECT_FALSE(tunnels.transition(id, "pending", 1001));
    EXPECT_FALSE(tunnels.transition(id, "active", 1001));
    ASSERT_TRUE(tunnels.checkpoint(id, 500, 700, 1010));
    ASSERT_TRUE(tunnels.checkpoint(id, 500, 700, 1011));  // nothing moved: no row
    // The receipt key is kept in memory while the tunnel is open: one
    // secret_set when it was made, no read per checkpoint.
    auto reads = db.prepare("SELECT count(*) FROM zsc_audit WHERE action = 'secret_read'");
    ASSERT_TRUE(reads && reads->step());
    EXPECT_EQ(reads->int64(0), 0);
    // The daemon dies here: nothing more is written for this row.
  }
  Database db = open_db();
  auto vault = Vault::open(db, field_key_, TEST_ITERATIONS);
  ASSERT_TRUE(vault);
  TunnelStore tunnels(db, *vault, "zeq-aaaaaaaaaaaa");
  auto row = tunnels.get(id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->state, "active");
  EXPECT_EQ(row->rx_bytes, 500);
  EXPECT_EQ(row->tx_bytes, 700);
  ASSERT_EQ(*tunnels.settle_orphans(1020), 1);
  row = tunnels.get(id);
  EXPECT_EQ(row->state, "terminated");
  EXPECT_EQ(row->stopped_at, 1020);
  EXPECT_EQ(row->total_zeq_charged, 20 * 3);  // 20 Zeqonds at 3 per Zeqond
  EXPECT_EQ(row->end_reason, "daemon_stopped_unexpectedly");
  EXPECT_FALSE(tunnels.terminate(id, 0, 0, 1030, "again"));

  auto ledger = db.prepare("SELECT kind, cost FROM usage_ledger WHERE tunnel_id = ? ORDER BY id");
  ASSERT_TRUE(ledger);
  ledger->bind(1, id);
  ASSERT_TRUE(ledger->step());
  EXPECT_EQ(ledger->text(0), "checkpoint");
  EXPECT_EQ(ledger->int64(1), 30);
  ASSERT_TRUE(ledger->step());
  EXPECT_EQ(ledger->text(0), "settlement");
  EXPECT_EQ(ledger->int64(1), 60);
  EXPECT_FALSE(ledger->step());
  auto list = tunnels.list();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 1u);
}

// The every-Zeqond checkpoint: counters only, no ledger row, one commit for
// every tunnel that moved, synced to disk (synchronous=FULL) or not (NORMAL).
// Prints what one checkpoint costs on a real file with N active tunnels (not
// a timed assertion).
TEST_F(StoreTest, CountersOfManyTunnelsInOneTransaction) {
  Database db = open_db();
  auto vault = Vault::open(db, field_key_, TEST_ITERATIONS);
  ASSERT_TRUE(vault);
  TunnelStore tunnels(db, *vault, "zeq-aaaaaaaaaaaa");
  std::vector<int64_t> ids;
  for (int i = 0; i < 100; ++i) {
    auto id = tunnels.open_tunnel("zeq-" + std::to_string(100000000000 + i), "zeq-aaaaaaaaaaaa", {}, 1000);
    ASSERT_TRUE(id) << id.message();
    ids.push_back(*id);
  }
  auto ledger_rows = [&] {
    auto st = db.prepare("SELECT count(*) FROM usage_ledger");
    EXPECT_TRUE(st && st->step());
    return st->int64(0);
  };
  const int64_t ledger_before = ledger_rows();
  for (bool synced : {true, false}) {
    for (size_t n : {size_t(1), size_t(10), size_t(100)}) {
      constexpr int ROUNDS = 50;
      auto t0 = std::chrono::steady_clock::now();
      for (int r = 1; r <= ROUNDS; ++r) {
        ASSERT_TRUE(tunnels.in_one_transaction(
            [&]() -> Status {
              for (size_t i = 0; i < n; ++i)
                if (Status s = tunnels.record_counters(ids[i], uint64_t(r) * 1000 + n, uint64_t(r) * 2000 + n); !s)
                  return s;
              return Status::ok();
            },
            synced));
      }
      double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / ROUNDS;
      std::printf("[ cost     ] checkpoint of %zu moved tunnel(s), one transaction, WAL + synchronous=%s on %s: %.0f us\n",
                  n, synced ? "FULL" : "NORMAL", dir_.c_str(), us);
    }
  }
  auto sync_mode = db.prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync_mode && sync_mode->step());
  EXPECT_EQ(sync_mode->int64(0), 2);  // back to FULL after an unsynced transaction
  EXPECT_EQ(ledger_rows(), ledger_before);  // counters alone sign nothing
  auto row = tunnels.get(ids[99]);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->rx_bytes, 50 * 1000 + 100);
  EXPECT_EQ(row->tx_bytes, 50 * 2000 + 100);
  // A transaction that fails half-way leaves every row as it was.
  Status failed = tunnels.in_one_transaction([&]() -> Status {
    if (Status s = tunnels.record_counters(ids[0], 1, 1); !s) return s;
    return Status::error("disk full, say");
  });
  EXPECT_FALSE(failed);
  EXPECT_EQ(tunnels.get(ids[0])->rx_bytes, 50 * 1000 + 100);
  // A terminated row keeps its settled counters.
  ASSERT_TRUE(tunnels.terminate(ids[1], 7, 7, 1100, "admin_down"));
  ASSERT_TRUE(tunnels.record_counters(ids[1], 9, 9));
  EXPECT_EQ(tunnels.get(ids[1])->rx_bytes, 7);
}

// An unsynced transaction whose COMMIT fails (here a deferred foreign key; in
// the field a full disk) can leave SQLite inside the transaction, where the
// safety level cannot be changed: synchronous=FULL must still come back, and
// the next transaction must commit instead of nesting in the stale one.
TEST_F(StoreTest, FullSyncComesBackAfterAFailedCommit) {
  Database db = open_db();
  auto vault = Vault::open(db, field_key_, TEST_ITERATIONS);
  ASSERT_TRUE(vault);
  TunnelStore tunnels(db, *vault, "zeq-aaaaaaaaaaaa");
  auto id = tunnels.open_tunnel("zeq-100000000000", "zeq-aaaaaaaaaaaa", {}, 1000);
  ASSERT_TRUE(id) << id.message();
  ASSERT_TRUE(db.exec("CREATE TABLE test_parent(id INTEGER PRIMARY KEY); CREATE TABLE test_child(parent INTEGER "
                      "REFERENCES test_parent(id) DEFERRABLE INITIALLY DEFERRED)"));
  Status failed = tunnels.in_one_transaction(
      [&]() -> Status {
        if (Status s = tunnels.record_counters(*id, 5, 5); !s) return s;
        return db.exec("INSERT INTO test_child VALUES (42)");  // refused only at COMMIT
      },
      false);
  EXPECT_FALSE(failed);
  EXPECT_FALSE(db.in_transaction());
  {
    auto sync_mode = db.prepare("PRAGMA synchronous");
    ASSERT_TRUE(sync_mode && sync_mode->step());
    EXPECT_EQ(sync_mode->int64(0), 2);  // FULL
  }
  EXPECT_EQ(tunnels.get(*id)->rx_bytes, 0);  // nothing of the failed transaction stayed
  ASSERT_TRUE(tunnels.in_one_transaction([&] { return tunnels.record_counters(*id, 7, 7); }, false));
  auto other = Database::open(path_);  // committed: another connection sees it
  ASSERT_TRUE(other) << other.message();
  auto rx = other->prepare("SELECT rx_bytes FROM vpn_tunnels WHERE id = ?");
  ASSERT_TRUE(rx);
  rx->bind(1, *id);
  ASSERT_TRUE(rx->step());
  EXPECT_EQ(rx->int64(0), 7);
}

TEST(Billing, PerGbRoundsEveryStartedDecimalGigabyteUp) {
  EXPECT_EQ(*cost_per_gb(0, 7), 0u);
  EXPECT_EQ(*cost_per_gb(1, 7), 7u);
  EXPECT_EQ(*cost_per_gb(BYTES_PER_GB - 1, 7), 7u);
  EXPECT_EQ(*cost_per_gb(BYTES_PER_GB, 7), 7u);
  EXPECT_EQ(*cost_per_gb(BYTES_PER_GB + 1, 7), 14u);
  EXPECT_EQ(*cost_per_gb(UINT64_MAX, 1), UINT64_MAX / BYTES_PER_GB + 1);
  EXPECT_FALSE(cost_per_gb(UINT64_MAX, UINT64_MAX));
}

TEST(Billing, PerZeqondIsExactAndOverflowIsAnError) {
  EXPECT_EQ(*cost_per_zeqond(0, 9), 0u);
  EXPECT_EQ(*cost_per_zeqond(86400, 9), 777600u);
  EXPECT_EQ(*cost_per_zeqond(UINT64_MAX, 1), UINT64_MAX);
  EXPECT_FALSE(cost_per_zeqond(UINT64_MAX / 2 + 1, 2));
  EXPECT_EQ(*tunnel_cost(PricingUnit::kGb, 1, 1000, 5), 5u);
  EXPECT_EQ(*tunnel_cost(PricingUnit::kZeqond, 1, 1000, 5), 5000u);
  EXPECT_EQ(pricing_unit_from("gb"), PricingUnit::kGb);
  EXPECT_FALSE(pricing_unit_from("GB"));
}

TEST(Billing, MinimumFundIsOneHundredZeqondsOfTheRate) {
  EXPECT_TRUE(sufficient_balance(500, 5));
  EXPECT_FALSE(sufficient_balance(499, 5));
  EXPECT_TRUE(sufficient_balance(0, 0));
  EXPECT_FALSE(sufficient_balance(UINT64_MAX, UINT64_MAX));
}

}  // namespace
}  // namespace zeq
