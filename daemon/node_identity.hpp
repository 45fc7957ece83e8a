// Where the node's private key comes from. The vault (zsc_secrets row
// identity.private_key) is the home of the key; a key file named in the
// config is imported into it on first start and is not needed after that.
#pragma once

#include <string>

#include "core/result.hpp"
#include "identity/key_file.hpp"
#include "store/vault.hpp"

namespace zeq {

inline constexpr char IDENTITY_VAULT_NAME[] = "identity.private_key";

struct ResolvedIdentity {
  LocalIdentity identity;
  bool needs_import = false;  // from the key file, not in the vault yet
};

// Vault only: the stored key. Vault and file: they must be the same key.
// File only: to be imported (import_identity) once the node is up, so a
// failed start-up changes nothing. Neither: an error saying how to make one.
Result<ResolvedIdentity> resolve_identity(Vault& vault, const std::string& key_file, uint64_t zeqond);
Status import_identity(Vault& vault, const LocalIdentity& identity, const std::string& key_file, uint64_t zeqond);

}  // namespace zeq
