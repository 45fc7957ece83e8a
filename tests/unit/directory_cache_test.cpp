// The directory cache (store/directory_cache.hpp) on a real SQLite file: the
// migration that adds its tables, upsert, removal and load, survival across
// close and reopen, and that what it hands back is verified again: a
// tampered row is refused when re-offered to a record store.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "directory/record_store.hpp"
#include "identity/certificate.hpp"
#include "protocol/directory_record.hpp"
#include "store/database.hpp"
#include "store/directory_cache.hpp"
#include "store/schema.hpp"
#include "directory_test_nodes.hpp"
#include "test_data.hpp"

namespace zeq {
namespace {

namespace fs = std::filesystem;
using test::hex;
using test::hex_array;
using test::records;
using test::certs;


class DirectoryCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("zeqvpn-dircache-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "state.db").string();
    trust_.add_ca(CaPublicKey{"vector-ca", hex_array<32>(certs()["ca"]["public"])});
  }
  void TearDown() override { fs::remove_all(dir_); }

  Database open_db() {
    auto db = Database::open(path_);
    EXPECT_TRUE(db) << db.message();
    EXPECT_TRUE(migrate(*db));
    return std::move(db.value());
  }

  // The vector node record i as the cache keeps it.
  static CachedRecord row(size_t i, std::string source = "zeq-0123456789ab") {
    const auto& v = records()["node_records"][i];
    return CachedRecord{v["zid"], v["sequence"], hex(v["encoded"]), v["made_z"].get<uint64_t>() + 1, std::move(source)};
  }
  // The Zeqond at which every vector record is within its window.
  static uint64_t now() { return records()["node_records"][2]["made_z"]; }

  fs::path dir_;
  std::string path_;
  TrustStore trust_;
};

}  // namespace

TEST_F(DirectoryCacheTest, MigrationAddsTheTablesToAVersionOneDatabase) {
  {
    Database db = open_db();
    EXPECT_EQ(*schema_version(db), SCHEMA_VERSION);
    // Back to what a version 1 database was, with a row of its own.
    ASSERT_TRUE(db.exec("DROP TABLE relay_receipts; DROP TABLE directory_records; DROP TABLE directory_revocations; "
                        "DROP TABLE mesh_invites; DROP TABLE mesh_addresses; "
                        "PRAGMA user_version = 1"));
    ASSERT_TRUE(db.exec("INSERT INTO peers (zid, public_key, first_seen_zeqond) VALUES ('zeq-0123456789ab', 'k', 1)"));
  }
  Database db = open_db();
  EXPECT_EQ(*schema_version(db), SCHEMA_VERSION);
  DirectoryCache cache(db);
  ASSERT_TRUE(cache.save_record(row(0)));
  auto loaded = cache.load_records();
  ASSERT_TRUE(loaded) << loaded.message();
  EXPECT_EQ(loaded->size(), 1u);
  auto peers = db.prepare("SELECT count(*) FROM peers");
  ASSERT_TRUE(peers && peers->step());
  EXPECT_EQ(peers->int64(0), 1);
}

TEST_F(DirectoryCacheTest, SaveUpsertsRemoveDeletesLoadReturnsTheBytes) {
  Database db = open_db();
  DirectoryCache cache(db);
  ASSERT_TRUE(cache.save_record(row(0)));
  ASSERT_TRUE(cache.save_record(row(1)));
  CachedRecord newer = row(2, "cache-test");  // alpha again, sequence 2
  ASSERT_TRUE(cache.save_record(newer));
  auto loaded = cache.load_records();
  ASSERT_TRUE(loaded) << loaded.message();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0], newer);  // ordered by ZID: alpha first, replaced
  EXPECT_EQ((*loaded)[1], row(1));
  ASSERT_TRUE(cache.remove_record(newer.zid));
  ASSERT_TRUE(cache.remove_record("zeq-000000000000"));  // nothing to remove is fine
  loaded = cache.load_records();
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].zid, row(1).zid);
  EXPECT_EQ(cache.load_records(0)->size(), 0u);

  // 64-bit values above INT64_MAX come back unchanged.
  CachedRecord high = row(0);
  high.sequence = UINT64_MAX;
  high.received_z = uint64_t{1} << 63;
  ASSERT_TRUE(cache.save_record(high));
  auto again = cache.load_records();
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)[0], high);
}

TEST_F(DirectoryCacheTest, SavesManyInOneTransaction) {
  Database db = open_db();
  DirectoryCache cache(db);
  std::vector<CachedRecord> rows = {row(0), row(1)};
  ASSERT_TRUE(cache.save_records(rows));
  EXPECT_FALSE(db.in_transaction());
  auto loaded = cache.load_records();
  ASSERT_TRUE(loaded) << loaded.message();
  EXPECT_EQ(*loaded, rows);
  // Inside a caller's transaction that fails, nothing of it stays.
  rows = {row(2)};
  Status outer = db.transaction([&] {
    EXPECT_TRUE(cache.save_records(rows));
    return Status::error("the caller fails");
  });
  EXPECT_FALSE(outer);
  EXPECT_EQ((*cache.load_records())[0], row(0));
}

TEST_F(DirectoryCacheTest, RevocationListsSaveLoadRemove) {
  Database db = open_db();
  DirectoryCache cache(db);
  const Bytes issuer = hex(certs()["ca"]["fingerprint"]);
  CachedRevocationList list{issuer, 7, hex(certs()["revocation_list"]["encoded"])};
  ASSERT_TRUE(cache.save_revocation_list(list));
  list.serial = 8;  // replaces the row of that issuer
  ASSERT_TRUE(cache.save_revocation_list(list));
  auto loaded = cache.load_revocation_lists();
  ASSERT_TRUE(loaded) << loaded.message();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0], list);
  Status short_issuer = cache.save_revocation_list(CachedRevocationList{Bytes(31, 1), 1, {}});
  ASSERT_FALSE(short_issuer);
  EXPECT_NE(short_issuer.message().find("31 bytes; a CA fingerprint has 32"), std::string::npos);
  ASSERT_TRUE(cache.remove_revocation_list(issuer));
  EXPECT_TRUE(cache.load_revocation_lists()->empty());
}

TEST_F(DirectoryCacheTest, SurvivesCloseAndReopenAndIsVerifiedAgain) {
  {
    Database db = open_db();
    DirectoryCache cache(db);
    for (size_t i = 0; i < 2; ++i) ASSERT_TRUE(cache.save_record(row(i)));
    ASSERT_TRUE(cache.save_revocation_list(
        CachedRevocationList{hex(certs()["ca"]["fingerprint"]), 7, hex(certs()["revocation_list"]["encoded"])}));
  }
  Database db = open_db();
  DirectoryCache cache(db);
  auto rows = cache.load_records();
  ASSERT_TRUE(rows) << rows.message();
  ASSERT_EQ(rows->size(), 2u);
  RecordStore store(trust_);
  for (const auto& r : *rows) EXPECT_EQ(store.offer(r.record, now(), "cache").verdict, OfferVerdict::kAccepted);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.find(row(0).zid)->source, "cache");

  // The list comes back as its bytes; the caller wraps it into a record.
  auto lists = cache.load_revocation_lists();
  ASSERT_TRUE(lists && lists->size() == 1u);
  auto list = decode_revocation_list((*lists)[0].list);
  ASSERT_TRUE(list) << list.message();
  auto list_record = revocation_list_record(*list);
  ASSERT_TRUE(list_record);
  auto outcome = store.offer(list_record->encoded, now(), "cache");
  EXPECT_EQ(outcome.verdict, OfferVerdict::kAccepted);
  EXPECT_EQ(outcome.dropped.size(), 2u);  // the vector list revokes both
}

TEST_F(DirectoryCacheTest, TamperedRowsAreRefusedWhenReOffered) {
  {
    Database db = open_db();
    DirectoryCache cache(db);
    for (size_t i = 0; i < 2; ++i) ASSERT_TRUE(cache.save_record(row(i)));
    // Someone with the file: one bit of alpha's record flipped (its
    // endpoint's port), relay-1's cut short, and a column that lies.
    Bytes flipped = row(0).record;
    flipped[226] ^= 0x01;
    auto st = db.prepare("UPDATE directory_records SET record = ? WHERE zid = ?");
    ASSERT_TRUE(st);
    st->bind(1, ByteSpan(flipped)).bind(2, std::string_view(row(0).zid));
    ASSERT_TRUE(st->done());
    Bytes cut = row(1).record;
    cut.resize(cut.size() - 10);
    auto st2 = db.prepare("UPDATE directory_records SET record = ? WHERE zid = ?");
    ASSERT_TRUE(st2);
    st2->bind(1, ByteSpan(cut)).bind(2, std::string_view(row(1).zid));
    ASSERT_TRUE(st2->done());
    CachedRecord lying = row(2);
    lying.zid = "zeq-0123456789ab";  // alpha's record filed under another ZID
    ASSERT_TRUE(cache.save_record(lying));
  }
  Database db = open_db();
  DirectoryCache cache(db);
  auto rows = cache.load_records();
  ASSERT_TRUE(rows) << rows.message();
  ASSERT_EQ(rows->size(), 3u);
  RecordStore store(trust_);
  std::map<std::string, OfferVerdict> verdicts;
  for (const auto& r : *rows) verdicts[r.zid] = store.offer(r.record, now(), "cache").verdict;
  EXPECT_EQ(verdicts[row(0).zid], OfferVerdict::kBadRecordSignature);
  EXPECT_EQ(verdicts[row(1).zid], OfferVerdict::kMalformed);
  EXPECT_EQ(verdicts["zeq-0123456789ab"], OfferVerdict::kAccepted);
  // Held under the ZID its certificate names, not the column's.
  ASSERT_EQ(store.size(), 1u);
  EXPECT_NE(store.find(row(0).zid), nullptr);
  EXPECT_EQ(store.find("zeq-0123456789ab"), nullptr);
}

}  // namespace zeq
