// Cryptographically secure randomness (libsodium's randombytes): free
// functions for code that just needs bytes, and SystemRandom, the
// RandomSource (random_source.hpp) handed to code that must not draw
// randomness itself.
#pragma once

#include <cstdint>
#include <span>

#include "crypto/random_source.hpp"

namespace zeq {

void random_fill(std::span<uint8_t> out);
uint32_t random_u32();
// Uniform in [0, upper_bound).
uint32_t random_uniform(uint32_t upper_bound);

// The system's randomness (libsodium).
class SystemRandom final : public RandomSource {
 public:
  void fill(std::span<uint8_t> out) override { random_fill(out); }
  uint32_t uniform(uint32_t upper_bound) override { return random_uniform(upper_bound); }
};

}  // namespace zeq
