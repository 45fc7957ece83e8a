// X25519 key pairs and Diffie-Hellman (libsodium).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "crypto/secret_bytes.hpp"

namespace zeq {

using PublicKey = std::array<uint8_t, 32>;

struct X25519Keypair {
  Key32 private_key;
  PublicKey public_key{};
};

// A fresh random key pair.
X25519Keypair x25519_generate();
// The key pair for a given private key (clamping is part of X25519 itself).
X25519Keypair x25519_from_private(std::span<const uint8_t, 32> private_key);
// shared = X25519(private, public). False when the result is all zeros (a
// low-order public key), which the protocol rejects.
bool x25519_dh(std::span<const uint8_t, 32> private_key, std::span<const uint8_t, 32> public_key,
               std::span<uint8_t, 32> shared);

}  // namespace zeq
