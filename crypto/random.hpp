// Cryptographically secure randomness (libsodium's randombytes).
#pragma once

#include <cstdint>
#include <span>

namespace zeq {

void random_fill(std::span<uint8_t> out);
uint32_t random_u32();
// Uniform in [0, upper_bound).
uint32_t random_uniform(uint32_t upper_bound);

}  // namespace zeq
