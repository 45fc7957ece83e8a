#include "store/database.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

namespace zeq {

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int i, int64_t v) {
  failed_ |= sqlite3_bind_int64(stmt_, i, v) != SQLITE_OK;
  return *this;
}
Statement& Statement::bind(int i, std::string_view v) {
  failed_ |= sqlite3_bind_text(stmt_, i, v.data(), int(v.size()), SQLITE_TRANSIENT) != SQLITE_OK;
  return *this;
}
Statement& Statement::bind(int i, ByteSpan v) {
  static const uint8_t empty = 0;
  failed_ |= sqlite3_bind_blob(stmt_, i, v.empty() ? &empty : v.data(), int(v.size()), SQLITE_TRANSIENT) != SQLITE_OK;
  return *this;
}
Statement& Statement::bind_null(int i) {
  failed_ |= sqlite3_bind_null(stmt_, i) != SQLITE_OK;
  return *this;
}

bool Statement::step() {
  if (failed_) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) failed_ = true;
  return false;
}

Status Statement::done() {
  while (step()) {}
  if (failed_) return Status::error(std::string("SQLite: ") + sqlite3_errmsg(db_));
  return Status::ok();
}

int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
std::string Statement::text(int col) const {
  const unsigned char* t = sqlite3_column_text(stmt_, col);
  return t ? std::string(reinterpret_cast<const char*>(t), size_t(sqlite3_column_bytes(stmt_, col))) : std::string();
}
Bytes Statement::blob(int col) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
  return p ? Bytes(p, p + sqlite3_column_bytes(stmt_, col)) : Bytes();
}
bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

Result<Database> Database::open(const std::string& path) {
  sqlite3* raw = nullptr;
  mode_t old = umask(077);  // the database holds sealed secrets and metadata
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  umask(old);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close(raw);
    return Status::error("state database " + path + ": " + msg +
                         "; check that the directory exists and is writable (state.database in the config)");
  }
  Database db(raw, path);
  sqlite3_busy_timeout(raw, 5000);
  if (Status s = db.check_intact(); !s) return s;
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
                             "PRAGMA secure_delete=ON"}) {
    if (Status s = db.exec(pragma); !s) return s;
  }
  return db;
}

namespace {
constexpr const char* kCheckAccess =
    "check that the file and its directory exist and are readable and writable (state.database in the config)";
}  // namespace

// A damaged file is found here, before anything reads or writes it, and
// named with the way out, instead of surfacing later as "database disk image
// is malformed" from whichever query hits the bad page. quick_check reads
// every page once (milliseconds for a state database of a few MB).
Status Database::check_intact() {
  auto damaged = [&](std::string what) {
    // quick_check reports on several lines ("*** in database main ***\nPage 10: ..."): keep one.
    if (auto at = what.find("***\n"); at != std::string::npos) what.erase(0, at + 4);
    for (char& c : what)
      if (c == '\n') c = ' ';
    return Status::error("state database " + path_ + " is damaged (" + what +
                         "); restore it from a backup, or move it aside to start with a new one (the vault in it, "
                         "with the node key and tunnel records, is then gone: set identity_key_file to bring the key back)");
  };
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA quick_check(1)", -1, &stmt, nullptr) != SQLITE_OK) {
    int code = sqlite3_errcode(db_);
    std::string msg = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) return damaged(msg);
    return Status::error("state database " + path_ + ": " + msg + "; " + kCheckAccess);
  }
  int rc = sqlite3_step(stmt);
  std::string result = rc == SQLITE_ROW && sqlite3_column_text(stmt, 0)
                           ? reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))
                           : sqlite3_errmsg(db_);
  int code = sqlite3_errcode(db_);
  sqlite3_finalize(stmt);
  if (rc == SQLITE_ROW && result == "ok") return Status::ok();
  if (rc == SQLITE_ROW || code == SQLITE_NOTADB || code == SQLITE_CORRUPT) return damaged(result);
  return Status::error("state database " + path_ + ": " + result + "; " + kCheckAccess);
}

Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

Status Database::error(std::string_view what) const {
  return Status::error("state database " + path_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_));
}

Status Database::exec(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::error("state database " + path_ + ": " + msg);
  }
  return Status::ok();
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), int(sql.size()), &stmt, nullptr) != SQLITE_OK) return error("prepare");
  return Statement(db_, stmt);
}

bool Database::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

int64_t Database::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }

}  // namespace zeq
