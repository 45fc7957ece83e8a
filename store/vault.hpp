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

}  // namespace zeq
