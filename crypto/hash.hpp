// SHA-256, HMAC-SHA256 and HKDF-SHA256 (RFC 5869), all through OpenSSL.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>

namespace zeq {

using Digest32 = std::array<uint8_t, 32>;

Digest32 sha256(std::span<const uint8_t> data);
// SHA-256 over the concatenation of several parts.
Digest32 sha256(std::initializer_list<std::span<const uint8_t>> parts);

// HMAC-SHA256(key, part1 || part2 || ...) written to out (32 bytes).
void hmac_sha256(std::span<const uint8_t> key, std::initializer_list<std::span<const uint8_t>> parts,
                 std::span<uint8_t, 32> out);
Digest32 hmac_sha256(std::span<const uint8_t> key, std::span<const uint8_t> data);

// PBKDF2-HMAC-SHA256 (RFC 8018) of password and salt into out
// (crypto/pbkdf2_sha256.cpp); false if iterations < 1, out is empty or
// OpenSSL fails.
[[nodiscard]] bool pbkdf2_sha256(std::span<const uint8_t> password, std::span<const uint8_t> salt, int iterations,
                                 std::span<uint8_t> out);

// RFC 5869 HKDF-SHA256 extract-and-expand; fills out (at most 255*32 bytes).
// Returns false only if OpenSSL fails.
bool hkdf_sha256(std::span<const uint8_t> salt, std::span<const uint8_t> ikm,
                 std::span<const uint8_t> info, std::span<uint8_t> out);

}  // namespace zeq
