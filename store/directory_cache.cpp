// DirectoryCache (store/directory_cache.hpp): upserts, removals and loads of
// the directory tables through prepared statements.
#include "store/directory_cache.hpp"

namespace zeq {

namespace {

constexpr size_t ISSUER_BYTES = 32;

// SQLite integers are signed 64-bit: the same bits both ways.
int64_t to_column(uint64_t v) { return static_cast<int64_t>(v); }
uint64_t from_column(int64_t v) { return static_cast<uint64_t>(v); }

}  // namespace

Status DirectoryCache::save_record(const CachedRecord& row) {
  auto st = db_.prepare(
      "INSERT INTO directory_records (zid, sequence, record, received_z, source) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (zid) DO UPDATE SET sequence = excluded.sequence, record = excluded.record, "
      "received_z = excluded.received_z, source = excluded.source");
  if (!st) return st.status();
  st->bind(1, std::string_view(row.zid)).bind(2, to_column(row.sequence)).bind(3, ByteSpan(row.record));
  st->bind(4, to_column(row.received_z)).bind(5, std::string_view(row.source));
  if (Status s = st->done(); !s) return db_.error("saving the directory record of " + row.zid);
  return Status::ok();
}

Status DirectoryCache::save_records(std::span<const CachedRecord> rows) {
  return db_.transaction([&] {
    for (const auto& row : rows)
      if (Status s = save_record(row); !s) return s;
    return Status::ok();
  });
}

Status DirectoryCache::remove_record(std::string_view zid) {
  auto st = db_.prepare("DELETE FROM directory_records WHERE zid = ?");
  if (!st) return st.status();
  st->bind(1, zid);
  if (Status s = st->done(); !s) return db_.error("removing the directory record of " + std::string(zid));
  return Status::ok();
}

Result<std::vector<CachedRecord>> DirectoryCache::load_records(size_t max_rows) {
  auto st = db_.prepare(
      "SELECT zid, sequence, record, received_z, source FROM directory_records ORDER BY zid LIMIT ?");
  if (!st) return st.status();
  st->bind(1, int64_t(max_rows));
  std::vector<CachedRecord> rows;
  while (st->step())
    rows.push_back(CachedRecord{st->text(0), from_column(st->int64(1)), st->blob(2), from_column(st->int64(3)),
                                st->text(4)});
  if (st->failed()) return db_.error("loading the directory records");
  return rows;
}

Status DirectoryCache::save_revocation_list(const CachedRevocationList& row) {
  if (row.issuer.size() != ISSUER_BYTES)
    return Status::error("directory cache: a revocation list's issuer has " + std::to_string(row.issuer.size()) +
                         " bytes; a CA fingerprint has 32");
  auto st = db_.prepare(
      "INSERT INTO directory_revocations (issuer, serial, list) VALUES (?, ?, ?) "
      "ON CONFLICT (issuer) DO UPDATE SET serial = excluded.serial, list = excluded.list");
  if (!st) return st.status();
  st->bind(1, ByteSpan(row.issuer)).bind(2, to_column(row.serial)).bind(3, ByteSpan(row.list));
  if (Status s = st->done(); !s) return db_.error("saving the revocation list of CA " + to_hex(row.issuer));
  return Status::ok();
}

Status DirectoryCache::remove_revocation_list(ByteSpan issuer) {
  auto st = db_.prepare("DELETE FROM directory_revocations WHERE issuer = ?");
  if (!st) return st.status();
  st->bind(1, issuer);
  if (Status s = st->done(); !s) return db_.error("removing the revocation list of CA " + to_hex(issuer));
  return Status::ok();
}

Result<std::vector<CachedRevocationList>> DirectoryCache::load_revocation_lists(size_t max_rows) {
  auto st = db_.prepare("SELECT issuer, serial, list FROM directory_revocations ORDER BY issuer LIMIT ?");
  if (!st) return st.status();
  st->bind(1, int64_t(max_rows));
  std::vector<CachedRevocationList> rows;
  while (st->step()) rows.push_back(CachedRevocationList{st->blob(0), from_column(st->int64(1)), st->blob(2)});
  if (st->failed()) return db_.error("loading the directory's revocation lists");
  return rows;
}

}  // namespace zeq
