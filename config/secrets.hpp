// The two secrets' formats. They come from the environment or from systemd
// credentials (loader/ reads those), never from the YAML file, and are never
// echoed in errors or logs. Pure: the text is handed in.
//  - ZEQ_MESH_SECRET: hex, at least 64 digits; the HMACs use the decoded
//    bytes (PROTOCOL.md 3). The same on every node of the mesh.
//  - ZEQ_FIELD_KEY: exactly 64 hex digits (32 bytes); seals the state
//    database's vault. Per node, kept by the operator.
//  - ZEQ_SYNC_SECRET (optional): hex, at least 32 digits; keys the PLAT
//    chain of directory ticks (directory/plat_chain.hpp). The same on every
//    node of a sync group, with ZEQ_SYNC_UID (1..64 printable characters,
//    not secret but read the same way) naming that group.
//  - ZEQ_ETCD_PASSWORD (optional): the etcd user's password, as given.
#pragma once

#include "core/result.hpp"
#include "crypto/secret_bytes.hpp"

namespace zeq {

inline constexpr char MESH_SECRET_ENV[] = "ZEQ_MESH_SECRET";
inline constexpr char FIELD_KEY_ENV[] = "ZEQ_FIELD_KEY";
inline constexpr char SYNC_SECRET_ENV[] = "ZEQ_SYNC_SECRET";
inline constexpr char SYNC_UID_ENV[] = "ZEQ_SYNC_UID";
inline constexpr char ETCD_PASSWORD_ENV[] = "ZEQ_ETCD_PASSWORD";

// Validate and decode hex text; `where` names the source in errors.
Result<SecretBuffer> decode_mesh_secret(const char* hex_text, const char* where);
Result<SecretBuffer> decode_field_key(const char* hex_text, const char* where);
Result<SecretBuffer> decode_sync_secret(const char* hex_text, const char* where);
// Text values (the uid, the etcd password): trailing newline and spaces
// dropped; the uid must be 1..64 printable ASCII characters.
Result<SecretBuffer> decode_sync_uid(const char* text, const char* where);
Result<SecretBuffer> decode_text_secret(const char* text, const char* where);

}  // namespace zeq
