// Cryptographically secure randomness (libsodium's randombytes), as free
// functions for code that just needs bytes, and as a RandomSource that can be
// handed to code which must not draw randomness itself (protocol/, and the
// session logic under test), the way a Clock is handed to it.
#pragma once

#include <cstdint>
#include <span>

namespace zeq {

void random_fill(std::span<uint8_t> out);
uint32_t random_u32();
// Uniform in [0, upper_bound).
uint32_t random_uniform(uint32_t upper_bound);

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void fill(std::span<uint8_t> out) = 0;
  // Uniform in [0, upper_bound), without modulo bias.
  virtual uint32_t uniform(uint32_t upper_bound) = 0;
};

// The system's randomness (libsodium).
class SystemRandom final : public RandomSource {
 public:
  void fill(std::span<uint8_t> out) override { random_fill(out); }
  uint32_t uniform(uint32_t upper_bound) override { return random_uniform(upper_bound); }
};

}  // namespace zeq
