// The directory cache: the last mesh directory a node held (signed node
// records and CA revocation lists, protocol/directory_record.hpp), kept in
// the state database across restarts, so one bootstrap peer being down
// does not strand a restarted node. Records are public data, stored as they
// came (not sealed), and not trusted either: whoever loads them verifies
// every byte again (directory/record_store.hpp) as if a stranger sent them.
// Tables directory_records and directory_revocations (store/schema.cpp).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/result.hpp"
#include "store/database.hpp"

namespace zeq {

// One row of directory_records: a node record as received.
struct CachedRecord {
  std::string zid;
  uint64_t sequence = 0;
  Bytes record;  // the record's canonical bytes
  uint64_t received_z = 0;
  std::string source;  // who handed it over
  bool operator==(const CachedRecord&) const = default;
};

// One row of directory_revocations: a CA's revocation list.
struct CachedRevocationList {
  Bytes issuer;  // the CA's fingerprint, 32 bytes
  uint64_t serial = 0;
  Bytes list;  // the list's canonical bytes (not wrapped in a record)
  bool operator==(const CachedRevocationList&) const = default;
};

// Reads and writes the two tables of a migrated database. Integers above
// 2^63 - 1 (a sequence or serial may be any 64-bit value) are kept as the
// signed integer of the same bits and read back unchanged.
class DirectoryCache {
 public:
  explicit DirectoryCache(Database& db) : db_(db) {}

  // Inserts, or replaces the row of that ZID.
  Status save_record(const CachedRecord& row);
  // save_record for each row, all in one transaction (one disk sync for a
  // whole sync round, not one per record); none is saved when one fails.
  Status save_records(std::span<const CachedRecord> rows);
  Status remove_record(std::string_view zid);
  // Every row (at most max_rows, by ZID), bytes as stored.
  Result<std::vector<CachedRecord>> load_records(size_t max_rows = 100'000);

  // Inserts, or replaces the row of that issuer.
  Status save_revocation_list(const CachedRevocationList& row);
  Status remove_revocation_list(ByteSpan issuer);
  Result<std::vector<CachedRevocationList>> load_revocation_lists(size_t max_rows = 1'000);

 private:
  Database& db_;
};

}  // namespace zeq
