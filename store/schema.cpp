#include "store/schema.hpp"

#include <string>

namespace zeq {

namespace {

// Migration N takes the schema from version N-1 to N. Never edit a released
// migration; add a new one.
const char* const kMigrations[] = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
CREATE TABLE peers (
  zid TEXT PRIMARY KEY,
  public_key TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  first_seen_zeqond INTEGER NOT NULL,
  last_handshake_zeqond INTEGER
);
CREATE TABLE zsc_secrets (
  name TEXT PRIMARY KEY,
  ciphertext BLOB NOT NULL,
  iv BLOB NOT NULL CHECK (length(iv) = 12),
  tag BLOB NOT NULL CHECK (length(tag) = 16),
  purpose TEXT NOT NULL,
  bound_zid TEXT,
  expires_zeqond INTEGER,
  last_read_zeqond INTEGER,
  read_count INTEGER NOT NULL DEFAULT 0,
  created_zeqond INTEGER NOT NULL,
  updated_zeqond INTEGER NOT NULL
);
CREATE TABLE zsc_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  zeqond INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('secret_set','secret_read','secret_rotated','secret_denied')),
  name TEXT NOT NULL,
  transition_id TEXT NOT NULL,
  purpose TEXT NOT NULL,
  proof_digest TEXT NOT NULL,
  prev_hash TEXT NOT NULL
);
CREATE TABLE vpn_tunnels (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  peer_zid TEXT NOT NULL,
  local_zid TEXT NOT NULL,
  initiator_zid TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending','active','terminated')),
  key_purpose_id TEXT NOT NULL,
  requested_lifespan_zeqonds INTEGER NOT NULL DEFAULT 86400 CHECK (requested_lifespan_zeqonds BETWEEN 10 AND 86400),
  cover_traffic INTEGER NOT NULL DEFAULT 0,
  multi_hop INTEGER NOT NULL DEFAULT 0,
  multi_hop_chain TEXT NOT NULL DEFAULT '',
  relay_zid TEXT,
  pricing_unit TEXT NOT NULL DEFAULT 'gb' CHECK (pricing_unit IN ('gb','zeqond')),
  price_per_unit INTEGER NOT NULL DEFAULT 0 CHECK (price_per_unit >= 0),
  requested_at_zeqond INTEGER NOT NULL,
  started_at_zeqond INTEGER,
  stopped_at_zeqond INTEGER,
  rx_bytes INTEGER NOT NULL DEFAULT 0,
  tx_bytes INTEGER NOT NULL DEFAULT 0,
  total_zeq_charged INTEGER,
  end_reason TEXT
);
CREATE INDEX vpn_tunnels_peer ON vpn_tunnels(peer_zid, state);
CREATE TABLE usage_ledger (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tunnel_id INTEGER NOT NULL REFERENCES vpn_tunnels(id),
  zeqond INTEGER NOT NULL,
  rx_bytes INTEGER NOT NULL,
  tx_bytes INTEGER NOT NULL,
  cumulative_zeqonds INTEGER NOT NULL,
  cost INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('checkpoint','settlement')),
  receipt_mac TEXT NOT NULL
);
)sql",
    // 2: the directory cache (store/directory_cache.hpp): the last directory,
    // so a restarted node is not stranded when its bootstrap peer is down.
    // Raw signed records; whoever loads them verifies them again.
    R"sql(
CREATE TABLE directory_records (
  zid TEXT PRIMARY KEY,
  sequence INTEGER NOT NULL,
  record BLOB NOT NULL,
  received_z INTEGER NOT NULL,
  source TEXT NOT NULL DEFAULT ''
);
CREATE TABLE directory_revocations (
  issuer BLOB PRIMARY KEY CHECK (length(issuer) = 32),
  serial INTEGER NOT NULL,
  list BLOB NOT NULL
);
)sql",
    // 3: usage receipts of relayed pairs (store/tunnel_store.hpp add_receipt):
    // on a relay, what the paying requester signed it had carried (up and
    // down bytes at a Zeqond), kept byte for byte as received, so the relay
    // can prove what it charged for the tunnel row.
    R"sql(
CREATE TABLE relay_receipts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tunnel_id INTEGER NOT NULL REFERENCES vpn_tunnels(id),
  zeqond INTEGER NOT NULL CHECK (zeqond >= 0),
  up_bytes INTEGER NOT NULL CHECK (up_bytes >= 0),
  down_bytes INTEGER NOT NULL CHECK (down_bytes >= 0),
  receipt BLOB NOT NULL CHECK (typeof(receipt) = 'blob' AND length(receipt) BETWEEN 1 AND 512)
);
CREATE INDEX relay_receipts_tunnel ON relay_receipts(tunnel_id, zeqond);
)sql",
    // 4: mesh invites and the addresses the enrollment service handed out
    // (store/invite_store.hpp). An invite's one-time secret is sealed in the
    // vault (mesh.invite.<id>.secret), never in this table.
    R"sql(
CREATE TABLE mesh_invites (
  id TEXT PRIMARY KEY CHECK (length(id) = 32),
  name TEXT NOT NULL,
  roles INTEGER NOT NULL CHECK (roles BETWEEN 1 AND 3),
  created_z INTEGER NOT NULL,
  expires_z INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open','used','revoked')),
  changed_z INTEGER,
  used_by_zid TEXT NOT NULL DEFAULT '',
  address TEXT NOT NULL DEFAULT ''
);
CREATE TABLE mesh_addresses (
  address TEXT PRIMARY KEY,
  zid TEXT NOT NULL,
  name TEXT NOT NULL,
  assigned_z INTEGER NOT NULL
);
)sql",
};
static_assert(sizeof kMigrations / sizeof kMigrations[0] == SCHEMA_VERSION,
              "SCHEMA_VERSION (store/schema.hpp) is the number of migrations");

}  // namespace

Result<int> schema_version(Database& db) {
  auto st = db.prepare("PRAGMA user_version");
  if (!st) return st.status();
  if (!st->step()) return db.error("reading schema version");
  return int(st->int64(0));
}

Status migrate(Database& db) {
  auto v = schema_version(db);
  if (!v) return v.status();
  int have = *v;
  int want = int(sizeof kMigrations / sizeof kMigrations[0]);
  if (have > want) {
    return Status::error("state database " + db.path() + " has schema version " + std::to_string(have) +
                         ", newer than this zeqvpnd understands (" + std::to_string(want) +
                         "); upgrade zeqvpnd or restore an older database");
  }
  if (have == want) return Status::ok();
  // Every pending migration in one transaction: a failure or a crash part way
  // leaves the database at the version it had, and a new database costs one
  // commit (one fsync) instead of one per migration.
  int failed_at = 0;
  Status s = db.transaction([&] {
    for (int next = have + 1; next <= want; ++next) {
      failed_at = next;
      if (Status e = db.exec(kMigrations[next - 1]); !e) return e;
    }
    failed_at = 0;
    return db.exec("PRAGMA user_version = " + std::to_string(want));
  });
  if (!s) {
    return Status::error("migrating " + db.path() + " from schema " + std::to_string(have) + " to " +
                         std::to_string(want) + (failed_at ? " (step " + std::to_string(failed_at) + ")" : "") + ": " +
                         s.message() + "; the database was left at schema " + std::to_string(have));
  }
  return Status::ok();
}

}  // namespace zeq
