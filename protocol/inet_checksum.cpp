#include "protocol/inet_checksum.hpp"

#include <cstring>

namespace zeq {
namespace {

// Four 32-bit lanes (GCC/clang vector extension: SSE2 on x86-64, NEON on
// arm64, plain code elsewhere). Each lane sums the low and the high 16 bits
// of its words separately, so no carry is ever lost and nothing needs
// folding until the end: a 16-bit lane sum fits 32 bits for 65537 words.
typedef uint32_t Lanes __attribute__((vector_size(16)));

// Two lane pairs per 32-byte block: after BLOCKS_PER_ROUND blocks a lane
// holds at most 2 * 32768 * 0xFFFF < 2^32.
constexpr size_t BLOCK = 32;
constexpr size_t BLOCKS_PER_ROUND = 32768;

uint64_t fold_to_32_bits(uint64_t s) {
  s = (s & 0xFFFFFFFF) + (s >> 32);
  s = (s & 0xFFFFFFFF) + (s >> 32);
  return s;
}

}  // namespace

uint32_t checksum_partial(const uint8_t* data, size_t len, uint32_t sum) {
  // 64-bit total of 32-bit pieces: congruent to the 16-bit word sum modulo
  // 0xFFFF, since 2^16 = 1 there. It cannot overflow for any len.
  uint64_t total = sum;
  while (len >= BLOCK) {
    size_t blocks = len / BLOCK;
    if (blocks > BLOCKS_PER_ROUND) blocks = BLOCKS_PER_ROUND;
    Lanes low_a = {0, 0, 0, 0}, high_a = low_a, low_b = low_a, high_b = low_a;
    for (size_t i = 0; i < blocks; ++i) {
      Lanes a, b;
      std::memcpy(&a, data, 16);
      std::memcpy(&b, data + 16, 16);
      low_a += a & 0xFFFF;
      high_a += a >> 16;
      low_b += b & 0xFFFF;
      high_b += b >> 16;
      data += BLOCK;
    }
    len -= blocks * BLOCK;
    Lanes low = low_a + low_b, high = high_a + high_b;
    for (int k = 0; k < 4; ++k) total += uint64_t(low[k]) + uint64_t(high[k]);
  }
  while (len >= 4) {
    uint32_t w;
    std::memcpy(&w, data, 4);
    total += w;
    data += 4;
    len -= 4;
  }
  if (len >= 2) {
    uint16_t w;
    std::memcpy(&w, data, 2);
    total += w;
    data += 2;
    len -= 2;
  }
  if (len == 1) {
    // The word {byte, 0} as memory order sees it.
    uint16_t w = 0;
    std::memcpy(&w, data, 1);
    total += w;
  }
  return uint32_t(fold_to_32_bits(total));
}

uint32_t pseudo_header_sum(int family, const uint8_t* src, const uint8_t* dst, uint8_t protocol,
                           uint32_t l4_length) {
  size_t address_len = family == 6 ? 16 : 4;
  uint32_t sum = checksum_partial(src, address_len);
  sum = checksum_partial(dst, address_len, sum);
  // IPv4 has a 16-bit length and IPv6 a 32-bit one; as big-endian words
  // both sum the same while the length fits 16 bits, so one layout serves.
  const uint8_t tail[8] = {uint8_t(l4_length >> 24), uint8_t(l4_length >> 16), uint8_t(l4_length >> 8),
                           uint8_t(l4_length), 0, 0, 0, protocol};
  return checksum_partial(tail, sizeof tail, sum);
}

}  // namespace zeq
