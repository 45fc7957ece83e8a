// Secrets come from the environment or from systemd credentials, never from
// the YAML file. The mesh secret is hex text of at least 64 digits; what the
// HMACs use is the decoded bytes (PROTOCOL.md 3).
#pragma once

#include "core/result.hpp"
#include "crypto/secret_bytes.hpp"

namespace zeq {

inline constexpr char MESH_SECRET_ENV[] = "ZEQ_MESH_SECRET";

// Looks in $ZEQ_MESH_SECRET, then in $CREDENTIALS_DIRECTORY/ZEQ_MESH_SECRET
// (systemd LoadCredential=). The error says what is missing and how to fix it;
// it never echoes the value.
Result<SecretBuffer> load_mesh_secret();
// Validates and decodes hex text (exposed for tests).
Result<SecretBuffer> decode_mesh_secret(const char* hex_text, const char* where);

}  // namespace zeq
