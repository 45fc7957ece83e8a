// Ed25519 signatures (libsodium): the mesh authority signs certificates and
// revocation lists, a node signs its directory records.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "crypto/secret_bytes.hpp"

namespace zeq {

using Ed25519PublicKey = std::array<uint8_t, 32>;
using Ed25519Signature = std::array<uint8_t, 64>;

struct Ed25519Keypair {
  Key32 seed;  // the private half (libsodium's 64-byte secret key is derived from it when signing)
  Ed25519PublicKey public_key{};
};

Ed25519Keypair ed25519_generate();
Ed25519Keypair ed25519_from_seed(std::span<const uint8_t, 32> seed);
// Signs the concatenation of the parts (a domain string first, by convention).
Ed25519Signature ed25519_sign(const Ed25519Keypair& key, std::initializer_list<std::span<const uint8_t>> parts);
bool ed25519_verify(std::span<const uint8_t, 32> public_key, std::span<const uint8_t, 64> signature,
                    std::initializer_list<std::span<const uint8_t>> parts);

}  // namespace zeq
