// A thin RAII layer over the SQLite C API: a connection opened in WAL mode
// with full fsync on commit, prepared statements, and transactions. Errors
// come back as Status naming the database file and what failed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace zeq {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement(const Statement&) = delete;
  ~Statement();

  Statement& bind(int i, int64_t v);
  Statement& bind(int i, std::string_view v);
  Statement& bind(int i, ByteSpan v);
  Statement& bind_null(int i);
  // True while a row is available; false when done. Errors via ok().
  bool step();
  Status done();  // steps to the end; an error if any step failed
  bool failed() const { return failed_; }

  int64_t int64(int col) const;
  std::string text(int col) const;
  Bytes blob(int col) const;
  bool is_null(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool failed_ = false;
};

class Database {
 public:
  // Opens (creating if needed) the file with mode 0600, WAL, synchronous=FULL;
  // refuses a file that is not SQLite or fails PRAGMA quick_check.
  static Result<Database> open(const std::string& path);
  Database(Database&& o) noexcept : db_(o.db_), path_(std::move(o.path_)) { o.db_ = nullptr; }
  Database(const Database&) = delete;
  ~Database();

  Status exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql);
  int64_t last_insert_id() const;
  const std::string& path() const { return path_; }
  Status error(std::string_view what) const;

  // Runs fn inside BEGIN IMMEDIATE ... COMMIT; rolls back when fn fails.
  // Nested calls become savepoints, so a helper that needs atomicity can be
  // called both on its own and inside a caller's transaction.
  template <typename Fn>
  Status transaction(Fn&& fn) {
    bool nested = in_transaction();
    if (Status s = exec(nested ? "SAVEPOINT nested" : "BEGIN IMMEDIATE"); !s) return s;
    Status s = fn();
    if (!s) {
      (void)exec(nested ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK");
      return s;
    }
    return exec(nested ? "RELEASE nested" : "COMMIT");
  }
  bool in_transaction() const;
  // synchronous=FULL (the default: a commit is on disk when it returns) or
  // NORMAL (in WAL mode a commit survives the process dying, not a power
  // cut, until the next FULL commit or WAL checkpoint syncs the log).
  Status set_full_sync(bool full) { return exec(full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"); }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  // PRAGMA quick_check: a file that is not SQLite or has a damaged page is
  // refused with one line naming it and what to do.
  Status check_intact();
  sqlite3* db_;
  std::string path_;
};

}  // namespace zeq
