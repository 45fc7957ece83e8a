#include "daemon/node_identity.hpp"

#include <spdlog/spdlog.h>

#include "identity/zid.hpp"
#include "loader/loader.hpp"

namespace zeq {

Result<ResolvedIdentity> resolve_identity(Vault& vault, const std::string& key_file, uint64_t zeqond) {
  auto stored = vault.contains(IDENTITY_VAULT_NAME);
  if (!stored) return stored.status();

  std::optional<LocalIdentity> from_file;
  if (!key_file.empty()) {
    auto id = load_identity_key_file(key_file);
    if (!id) return id.status();
    from_file = std::move(id.value());
  }

  if (*stored) {
    auto key = vault.get(IDENTITY_VAULT_NAME, "zeqvpnd", zeqond);
    if (!key) return key.status();
    if (key->size() != 32)
      return Status::error(std::string("vault row ") + IDENTITY_VAULT_NAME + " holds " + std::to_string(key->size()) +
                           " bytes, not a 32-byte X25519 key; restore the state database from a backup");
    LocalIdentity id;
    id.keypair = x25519_from_private(std::span<const uint8_t, 32>(key->span().data(), 32));
    id.zid = zid_from_public_key(id.keypair.public_key);
    if (from_file && from_file->keypair.public_key != id.keypair.public_key)
      return Status::error("identity key file " + key_file + " holds node " + from_file->zid + ", but the vault in " +
                           "the state database holds node " + id.zid + "; remove interface.identity_key_file to keep " +
                           id.zid + ", or move the state database away to start as " + from_file->zid);
    return ResolvedIdentity{std::move(id), false};
  }

  if (!from_file)
    return Status::error("no identity: the vault holds no node key and interface.identity_key_file is not set; create a "
                         "key with `zeqvpnctl genkey > /etc/zeqvpn/node.key` (umask 077) and name it there");
  return ResolvedIdentity{std::move(*from_file), true};
}

Status import_identity(Vault& vault, const LocalIdentity& identity, const std::string& key_file, uint64_t zeqond) {
  Status s = vault.put(IDENTITY_VAULT_NAME, identity.keypair.private_key.span(), {"identity", "", 0}, "zeqvpnd", zeqond);
  if (!s) return s;
  spdlog::info("identity {} imported from {} into the vault; the key file is no longer needed and may be shredded",
               identity.zid, key_file);
  return Status::ok();
}

}  // namespace zeq
