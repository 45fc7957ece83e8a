// The two secrets' formats. They come from the environment or from systemd
// credentials (loader/ reads those), never from the YAML file, and are never
// echoed in errors or logs. Pure: the text is handed in.
//  - ZEQ_MESH_SECRET: hex, at least 64 digits; the HMACs use the decoded
//    bytes (PROTOCOL.md 3). The same on every node of the mesh.
//  - ZEQ_FIELD_KEY: exactly 64 hex digits (32 bytes); seals the state
//    database's vault. Per node, kept by the operator.
#pragma once

#include "core/result.hpp"
#include "crypto/secret_bytes.hpp"

namespace zeq {

inline constexpr char MESH_SECRET_ENV[] = "ZEQ_MESH_SECRET";
inline constexpr char FIELD_KEY_ENV[] = "ZEQ_FIELD_KEY";

// Validate and decode hex text; `where` names the source in errors.
Result<SecretBuffer> decode_mesh_secret(const char* hex_text, const char* where);
Result<SecretBuffer> decode_field_key(const char* hex_text, const char* where);

}  // namespace zeq
