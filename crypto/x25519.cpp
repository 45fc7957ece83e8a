#include "crypto/x25519.hpp"

#include <sodium.h>

#include "crypto/secret_bytes.hpp"

namespace zeq {

namespace {
// libsodium must be initialised before first use; this runs at load time.
[[maybe_unused]] const bool sodium_ready = (crypto_init(), true);
}  // namespace

X25519Keypair x25519_generate() {
  Key32 priv;
  randombytes_buf(priv.data(), priv.size());
  return x25519_from_private(priv.span());
}

X25519Keypair x25519_from_private(std::span<const uint8_t, 32> private_key) {
  X25519Keypair kp;
  kp.private_key.assign(private_key);
  crypto_scalarmult_base(kp.public_key.data(), kp.private_key.data());
  return kp;
}

bool x25519_dh(std::span<const uint8_t, 32> private_key, std::span<const uint8_t, 32> public_key,
               std::span<uint8_t, 32> shared) {
  return crypto_scalarmult(shared.data(), private_key.data(), public_key.data()) == 0;
}

}  // namespace zeq
