#include "crypto/random.hpp"

#include <sodium.h>

#include "crypto/secret_bytes.hpp"

namespace zeq {

namespace {
// libsodium must be initialised before first use; this runs at load time.
[[maybe_unused]] const bool sodium_ready = (crypto_init(), true);
}  // namespace

void random_fill(std::span<uint8_t> out) { randombytes_buf(out.data(), out.size()); }
uint32_t random_u32() { return randombytes_random(); }
uint32_t random_uniform(uint32_t upper_bound) { return randombytes_uniform(upper_bound); }

}  // namespace zeq
