#include "store/vault.hpp"

#include "crypto/aead.hpp"
#include "crypto/hash.hpp"
#include "crypto/random.hpp"

namespace zeq {

namespace {

constexpr char CHECK_PLAINTEXT[] = "zeqvpn vault key check v1";

Bytes aad_for(const std::string& name, const Vault::Entry& e) {
  std::string a = name + '\0' + e.purpose + '\0' + e.bound_zid;
  return Bytes(a.begin(), a.end());
}

std::string row_hash(const std::string& prev_hash, const std::string& proof, const std::string& action, int64_t z) {
  std::string s = prev_hash + "|" + proof + "|" + action + "|" + std::to_string(z);
  return to_hex(sha256(as_bytes(s)));
}

Status meta_get(Database& db, const std::string& key, Bytes& out, bool& found) {
  auto st = db.prepare("SELECT value FROM meta WHERE key = ?");
  if (!st) return st.status();
  st->bind(1, key);
  found = st->step();
  if (found) out = st->blob(0);
  return st->failed() ? db.error("reading meta") : Status::ok();
}

Status meta_put(Database& db, const std::string& key, ByteSpan value) {
  auto st = db.prepare("INSERT INTO meta(key, value) VALUES (?, ?)");
  if (!st) return st.status();
  st->bind(1, key).bind(2, value);
  return st->done();
}

}  // namespace

Result<Vault::Opening> Vault::begin_open(Database& db, int iterations) {
  Opening o(iterations);
  bool have_salt = false;
  if (Status s = meta_get(db, "vault_salt", o.salt_, have_salt); !s) return s;
  if (Status s = meta_get(db, "vault_check", o.check_, o.have_check_); !s) return s;
  if (!have_salt) return begin_new(iterations);
  return o;
}

Vault::Opening Vault::begin_new(int iterations) {
  Opening o(iterations);
  o.fresh_ = true;
  o.salt_.resize(16);
  random_fill(o.salt_);
  return o;
}

void Vault::Opening::derive(const SecretBuffer& field_key) {
  derived_ = pbkdf2_sha256(field_key.span(), salt_, iterations_, key_.mutable_span());
}

Result<Vault> Vault::finish_open(Database& db, Opening o) {
  if (!o.derived_) return Status::error("vault: PBKDF2 failed");
  Vault v(db);
  v.key_ = o.key_;
  o.key_.wipe();
  if (o.fresh_) {
    // A fresh vault: remember the salt and a sealed check value. An opening
    // begun before the database existed finds a salt here only if another
    // process made the vault in between (checked in the same transaction);
    // its key would not be this one.
    std::array<uint8_t, 12> iv{};
    random_fill(iv);
    Bytes sealed(sizeof CHECK_PLAINTEXT - 1 + 16);
    if (!aes256gcm_seal(v.key_.span(), iv, {}, as_bytes(CHECK_PLAINTEXT), sealed.data()))
      return Status::error("vault: sealing the key check failed (OpenSSL)");
    Bytes stored(iv.begin(), iv.end());
    stored.insert(stored.end(), sealed.begin(), sealed.end());
    Status s = db.transaction([&] {
      bool taken = false;
      Bytes other;
      if (Status e = meta_get(db, "vault_salt", other, taken); !e) return e;
      if (taken)
        return Status::error("state database " + db.path() +
                             " got a vault from another process while zeqvpnd started; is another zeqvpnd using it? "
                             "Give each daemon its own state.database");
      if (Status e = meta_put(db, "vault_salt", o.salt_); !e) return e;
      return meta_put(db, "vault_check", stored);
    });
    if (!s) return s;
    return v;
  }
  const Bytes& check = o.check_;
  Bytes plain(sizeof CHECK_PLAINTEXT - 1);
  if (!o.have_check_ || check.size() != 12 + plain.size() + 16 ||
      !aes256gcm_open(v.key_.span(), std::span<const uint8_t, 12>(check.data(), 12), {}, ByteSpan(check).subspan(12),
                      plain.data())) {
    return Status::error("ZEQ_FIELD_KEY does not open the vault in " + db.path() +
                         ": the vault was sealed under a different key; set the ZEQ_FIELD_KEY it was created with");
  }
  return v;
}

Result<Vault> Vault::open(Database& db, const SecretBuffer& field_key, int iterations) {
  auto opening = begin_open(db, iterations);
  if (!opening) return opening.status();
  opening->derive(field_key);
  return finish_open(db, std::move(opening.value()));
}

Status Vault::audit(const std::string& action, const std::string& name, const std::string& purpose,
                    const std::string& actor, uint64_t zeqond) {
  std::array<uint8_t, 16> tid{};
  random_fill(tid);
  std::string transition_id = to_hex(tid);
  std::string proof = to_hex(sha256(as_bytes(name + "|" + actor + "|" + transition_id + "|" + purpose)));
  std::string prev(64, '0');
  {
    auto last = db_->prepare("SELECT prev_hash, proof_digest, action, zeqond FROM zsc_audit ORDER BY id DESC LIMIT 1");
    if (!last) return last.status();
    if (last->step()) prev = row_hash(last->text(0), last->text(1), last->text(2), last->int64(3));
  }
  auto st = db_->prepare(
      "INSERT INTO zsc_audit(zeqond, actor, action, name, transition_id, purpose, proof_digest, prev_hash) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!st) return st.status();
  st->bind(1, int64_t(zeqond)).bind(2, actor).bind(3, action).bind(4, name).bind(5, transition_id).bind(6, purpose);
  st->bind(7, proof).bind(8, prev);
  return st->done();
}

Status Vault::seal_row(const std::string& name, ByteSpan value, const Entry& e, uint64_t zeqond) {
  std::array<uint8_t, 12> iv{};
  random_fill(iv);
  Bytes ct(value.size() + 16);
  Bytes aad = aad_for(name, e);
  if (!aes256gcm_seal(key_.span(), iv, aad, value, ct.data())) return Status::error("vault: sealing failed");
  ByteSpan cipher(ct.data(), value.size()), tag(ct.data() + value.size(), 16);
  auto st = db_->prepare(
      "INSERT INTO zsc_secrets(name, ciphertext, iv, tag, purpose, bound_zid, expires_zeqond, created_zeqond, updated_zeqond) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) "
      "ON CONFLICT(name) DO UPDATE SET ciphertext = ?2, iv = ?3, tag = ?4, purpose = ?5, bound_zid = ?6, "
      "expires_zeqond = ?7, updated_zeqond = ?8");
  if (!st) return st.status();
  st->bind(1, name).bind(2, cipher).bind(3, ByteSpan(iv)).bind(4, tag).bind(5, e.purpose);
  if (e.bound_zid.empty()) st->bind_null(6); else st->bind(6, e.bound_zid);
  if (e.expires_zeqond) st->bind(7, e.expires_zeqond); else st->bind_null(7);
  st->bind(8, int64_t(zeqond));
  return st->done();
}

Status Vault::put(const std::string& name, ByteSpan value, const Entry& e, const std::string& actor, uint64_t zeqond) {
  if (value.empty() || value.size() > VAULT_MAX_VALUE)
    return Status::error("vault: value for '" + name + "' must be 1 to 65536 bytes, got " + std::to_string(value.size()));
  return db_->transaction([&] {
    if (Status s = seal_row(name, value, e, zeqond); !s) return s;
    return audit("secret_set", name, e.purpose, actor, zeqond);
  });
}

Result<SecretBuffer> Vault::get(const std::string& name, const std::string& actor, uint64_t zeqond) {
  auto st = db_->prepare("SELECT ciphertext, iv, tag, purpose, bound_zid FROM zsc_secrets WHERE name = ?");
  if (!st) return st.status();
  st->bind(1, name);
  if (!st->step()) return Status::error("vault: no secret named '" + name + "' in " + db_->path());
  Bytes ct = st->blob(0), iv = st->blob(1), tag = st->blob(2);
  Entry e{st->text(3), st->is_null(4) ? "" : st->text(4), 0};
  ct.insert(ct.end(), tag.begin(), tag.end());
  SecretBuffer plain_holder;
  std::vector<uint8_t> plain(ct.size() >= 16 ? ct.size() - 16 : 0);
  bool ok = iv.size() == 12 && tag.size() == 16 &&
            aes256gcm_open(key_.span(), std::span<const uint8_t, 12>(iv.data(), 12), aad_for(name, e), ct, plain.data());
  if (!ok) {
    (void)audit("secret_denied", name, e.purpose, actor, zeqond);
    secure_wipe(plain.data(), plain.size());
    return Status::error("vault row '" + name + "' in " + db_->path() +
                         " failed authentication: it was modified after sealing; restore the database from a backup "
                         "or delete the row and import the secret again");
  }
  SecretBuffer out(plain);
  secure_wipe(plain.data(), plain.size());
  Status s = db_->transaction([&] {
    auto up = db_->prepare("UPDATE zsc_secrets SET read_count = read_count + 1, last_read_zeqond = ? WHERE name = ?");
    if (!up) return up.status();
    up->bind(1, int64_t(zeqond)).bind(2, name);
    if (Status d = up->done(); !d) return d;
    return audit("secret_read", name, e.purpose, actor, zeqond);
  });
  if (!s) return s;
  return out;
}

Result<bool> Vault::contains(const std::string& name) {
  auto st = db_->prepare("SELECT 1 FROM zsc_secrets WHERE name = ?");
  if (!st) return st.status();
  st->bind(1, name);
  return st->step();
}

Status Vault::verify_audit_chain() {
  auto st = db_->prepare(
      "SELECT id, zeqond, actor, action, name, transition_id, purpose, proof_digest, prev_hash FROM zsc_audit ORDER BY id");
  if (!st) return st.status();
  std::string expected_prev(64, '0');
  while (st->step()) {
    std::string proof = to_hex(sha256(as_bytes(st->text(4) + "|" + st->text(2) + "|" + st->text(5) + "|" + st->text(6))));
    if (proof != st->text(7)) return Status::error("audit row " + std::to_string(st->int64(0)) + ": proof digest does not match");
    if (st->text(8) != expected_prev) return Status::error("audit row " + std::to_string(st->int64(0)) + ": chain broken");
    expected_prev = row_hash(st->text(8), st->text(7), st->text(3), st->int64(1));
  }
  return st->failed() ? db_->error("reading audit") : Status::ok();
}

}  // namespace zeq
