// The ZSC vault: long-lived secrets (the node's private key, tunnel receipt
// keys, peers' DNS resolvers, later relay credentials) sealed with AES-256-GCM in
// table zsc_secrets. The sealing key is derived once at start-up with
// PBKDF2-SHA256 (200 000 iterations) from ZEQ_FIELD_KEY and a random salt kept
// in the database; every write uses a fresh IV. The AAD binds a value to its
// row (name, purpose, bound ZID), so a sealed value moved to another row does
// not open. Every operation appends to zsc_audit, a hash chain that never
// holds plaintext. A row may carry expires_zeqond; no secret sets one yet,
// and re-sealing expired rows comes with the first one that does.
#pragma once

#include <cstdint>
#include <string>

#include "crypto/secret_bytes.hpp"
#include "store/database.hpp"

namespace zeq {

inline constexpr int VAULT_PBKDF2_ITERATIONS = 200000;
inline constexpr size_t VAULT_MAX_VALUE = 65536;

class Vault {
 public:
  // Derives the key and checks it against the database's key check, so a
  // wrong ZEQ_FIELD_KEY is reported at start-up, not at first read.
  static Result<Vault> open(Database& db, const SecretBuffer& field_key, int iterations = VAULT_PBKDF2_ITERATIONS);

  // open() in three steps, so that the slow one (PBKDF2, about 20 ms) can
  // run on another thread while the caller does other work. begin_open
  // reads the salt and key check (a new vault gets a fresh salt); begin_new
  // is for a database file that does not exist yet, so the derivation can
  // start before the database is even created; derive touches neither the
  // database nor the heap, so it may run on any thread; finish_open checks
  // the key, or stores a new vault's salt and key check.
  class Opening;
  static Result<Opening> begin_open(Database& db, int iterations = VAULT_PBKDF2_ITERATIONS);
  static Opening begin_new(int iterations = VAULT_PBKDF2_ITERATIONS);
  static Result<Vault> finish_open(Database& db, Opening opening);

  struct Entry {
    std::string purpose;       // e.g. "identity", "tunnel.receipt"
    std::string bound_zid;     // empty when not bound to a peer
    int64_t expires_zeqond = 0;  // 0 = never
  };

  Status put(const std::string& name, ByteSpan value, const Entry& entry, const std::string& actor, uint64_t zeqond);
  // Opens a value; a tampered row (or one sealed under another key) is
  // refused with an error naming the row, and audited as secret_denied.
  Result<SecretBuffer> get(const std::string& name, const std::string& actor, uint64_t zeqond);
  Result<bool> contains(const std::string& name);
  // Walks zsc_audit and checks every proof digest and link.
  Status verify_audit_chain();

 private:
  Vault(Database& db) : db_(&db) {}
  Status audit(const std::string& action, const std::string& name, const std::string& purpose,
               const std::string& actor, uint64_t zeqond);
  Status seal_row(const std::string& name, ByteSpan value, const Entry& entry, uint64_t zeqond);

  Database* db_;
  Key32 key_;
};

class Vault::Opening {
 public:
  void derive(const SecretBuffer& field_key);

 private:
  friend class Vault;
  explicit Opening(int iterations) : iterations_(iterations) {}
  Key32 key_;
  int iterations_;
  Bytes salt_, check_;
  bool fresh_ = false, have_check_ = false, derived_ = false;
};

}  // namespace zeq
