// The one place that reads the host for the pure modules: the configuration
// file (parsed by config/), the node's key file (decoded by identity/) and
// the secrets from the environment or systemd credentials (decoded by
// config/secrets.hpp). zeqvpnd and zeqvpnctl both load through here, so the
// checks on files (permissions) and the error messages are the same in both.
#pragma once

#include <optional>

#include <cstddef>
#include <string>

#include "config/config.hpp"
#include "core/result.hpp"
#include "crypto/secret_bytes.hpp"
#include "identity/key_file.hpp"

namespace zeq {

// A configuration is a few KiB; the bound keeps /dev/zero or a wrong path
// from filling memory.
inline constexpr size_t MAX_CONFIG_BYTES = 1 << 20;

// Reads and parses the YAML file at path: a regular file (symlinks are
// followed) of at most MAX_CONFIG_BYTES; a FIFO or device is refused without
// blocking.
Result<Config> load_config_file(const std::string& path);

// Reads a private key file (a regular file, as for the config); refuses one
// that group or others may read.
// Errors name the file and say how to fix it.
Result<LocalIdentity> load_identity_key_file(const std::string& path);

// Each looks in $NAME, then in $CREDENTIALS_DIRECTORY/NAME (systemd
// LoadCredential=), whose content may be the value or `NAME=value` (as
// `zeqvpnctl gen-secrets` writes). The error says what is missing and how to
// fix it.
Result<SecretBuffer> load_mesh_secret();
Result<SecretBuffer> load_field_key();
// Optional ones: nullopt when neither the variable nor the credential is
// there; an error when one is there but malformed. A sync secret needs its
// uid (and a uid alone is refused: without the secret it means nothing).
struct SyncCredentials {
  SecretBuffer secret, uid;
};
Result<std::optional<SyncCredentials>> load_sync_credentials();
Result<std::optional<SecretBuffer>> load_etcd_password();

}  // namespace zeq
