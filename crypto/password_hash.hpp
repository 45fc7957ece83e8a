// Argon2id (version 1.3, libsodium's crypto_pwhash): a key stretched from a
// password, slow and memory-hard on purpose. Zeq Auth equation identities
// (identity/equation_identity.hpp) derive their node key with it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/result.hpp"

namespace zeq {

inline constexpr size_t ARGON2ID_SALT_BYTES = 16;

// out = Argon2id13(password, salt, opslimit passes, memlimit bytes). Fails
// (out wiped) when the limits are out of libsodium's range or the memory
// cannot be had.
Status argon2id_derive(std::span<const uint8_t> password, std::span<const uint8_t, ARGON2ID_SALT_BYTES> salt,
                       uint64_t opslimit, size_t memlimit, std::span<uint8_t> out);

}  // namespace zeq
