// Mesh invites (`zeqvpnctl mesh invite`) and the tunnel addresses the
// enrollment service hands out, in tables mesh_invites and mesh_addresses.
// An invite's one-time secret is sealed in the vault as
// `mesh.invite.<id>.secret`; the table holds its name, roles, expiry and
// state (open, used, revoked). Using an invite and taking the lowest free
// address of the network happen in one BEGIN IMMEDIATE transaction, so an
// invite is used once and an address given once, even with joins racing
// (or two processes on the same database).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/net_address.hpp"
#include "core/result.hpp"
#include "crypto/secret_bytes.hpp"
#include "store/database.hpp"
#include "store/vault.hpp"

namespace zeq {

struct InviteRow {
  std::string id;  // 32 lowercase hex
  std::string name;
  uint8_t roles = 1;  // CERT_ROLE_* bits
  uint64_t created_z = 0;
  uint64_t expires_z = 0;
  std::string state = "open";  // open, used, revoked
  uint64_t changed_z = 0;      // when used or revoked; 0 while open
  std::string used_by_zid;
  std::string address;  // given to the joiner, with its length (10.77.0.2/16)
};

enum class InviteUse : uint8_t { kOk, kUnknown, kExpired, kUsed, kRevoked, kNoAddress };

class InviteStore {
 public:
  InviteStore(Database& db, Vault& vault) : db_(db), vault_(vault) {}

  // Records an open invite and seals its secret.
  Status create(const InviteRow& row, ByteSpan secret, uint64_t now_z);
  Result<std::optional<InviteRow>> find(const std::string& id);
  // Newest first.
  Result<std::vector<InviteRow>> list();
  Result<SecretBuffer> secret(const std::string& id, uint64_t now_z);
  // Revokes the open invite with that id, id prefix (8+ hex digits) or name;
  // an error naming the state when it is not open, or the candidates when
  // the name is ambiguous.
  Result<InviteRow> revoke(const std::string& id_or_name, uint64_t now_z);
  // An address that is taken (the node's own, at start); kept when present.
  Status reserve_address(const IpPrefix& address, const std::string& zid, const std::string& name, uint64_t now_z);

  struct Used {
    InviteUse outcome = InviteUse::kOk;
    InviteRow row;  // as it is after the attempt
  };
  // Atomically: the invite must be open and unexpired at now_z; then it is
  // marked used by zid and given the lowest free host address of network
  // (not the network or broadcast address), recorded in mesh_addresses.
  Result<Used> use(const std::string& id, const std::string& zid, const IpPrefix& network, uint64_t now_z);

 private:
  Database& db_;
  Vault& vault_;
};

// The vault row of an invite's secret.
std::string invite_secret_name(const std::string& id);

}  // namespace zeq
