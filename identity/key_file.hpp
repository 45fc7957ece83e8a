// Key-file identities: a node's X25519 private key in a file of its own, as
// `zeqvpnctl genkey` writes it (loader/ reads the file; this is the text). Keys are text in standard base64 (44
// characters, as WireGuard users know them); 64 hex digits are accepted too.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "crypto/x25519.hpp"

namespace zeq {

// A node's own identity: its static key pair and its ZID.
struct LocalIdentity {
  X25519Keypair keypair;
  std::string zid;
};

std::string encode_key(std::span<const uint8_t, 32> key);
// Base64 (44 chars) or hex (64 chars); surrounding white space ignored.
std::optional<std::array<uint8_t, 32>> decode_key(std::string_view text);

// The identity of a private key given as text (as decode_key accepts).
Result<LocalIdentity> identity_from_private_key_text(std::string_view text);

}  // namespace zeq
