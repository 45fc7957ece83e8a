// Where randomness comes from, for code that must not draw it itself
// (protocol/, and the session logic under test): it is handed a
// RandomSource, the way it is handed a Clock. crypto/random.hpp has the
// system's (SystemRandom); tests may fix the values.
#pragma once

#include <cstdint>
#include <span>

namespace zeq {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void fill(std::span<uint8_t> out) = 0;
  // Uniform in [0, upper_bound), without modulo bias.
  virtual uint32_t uniform(uint32_t upper_bound) = 0;
};

}  // namespace zeq
