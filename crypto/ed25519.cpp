#include "crypto/ed25519.hpp"

#include <sodium.h>

#include <vector>

namespace zeq {

namespace {

// libsodium must be initialised before first use; this runs at load time.
[[maybe_unused]] const bool sodium_ready = (crypto_init(), true);

// The message is public (a domain string and an encoding), so one plain copy
// of the parts is fine; libsodium's Ed25519 needs it contiguous.
std::vector<uint8_t> concatenate(std::initializer_list<std::span<const uint8_t>> parts) {
  size_t total = 0;
  for (auto p : parts) total += p.size();
  std::vector<uint8_t> message;
  message.reserve(total);
  for (auto p : parts) message.insert(message.end(), p.begin(), p.end());
  return message;
}

}  // namespace

Ed25519Keypair ed25519_generate() {
  Key32 seed;
  randombytes_buf(seed.data(), seed.size());
  return ed25519_from_seed(seed.span());
}

Ed25519Keypair ed25519_from_seed(std::span<const uint8_t, 32> seed) {
  Ed25519Keypair kp;
  kp.seed.assign(seed);
  unsigned char secret[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(kp.public_key.data(), secret, kp.seed.data());
  sodium_memzero(secret, sizeof secret);
  return kp;
}

Ed25519Signature ed25519_sign(const Ed25519Keypair& key, std::initializer_list<std::span<const uint8_t>> parts) {
  std::vector<uint8_t> message = concatenate(parts);
  // libsodium signs with seed || public key (64 bytes); it is rebuilt from
  // the seed for this one signature and wiped before returning.
  unsigned char secret[crypto_sign_SECRETKEYBYTES];
  unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_seed_keypair(public_key, secret, key.seed.data());
  Ed25519Signature signature{};
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), secret);
  sodium_memzero(secret, sizeof secret);
  return signature;
}

bool ed25519_verify(std::span<const uint8_t, 32> public_key, std::span<const uint8_t, 64> signature,
                    std::initializer_list<std::span<const uint8_t>> parts) {
  std::vector<uint8_t> message = concatenate(parts);
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(), public_key.data()) == 0;
}

}  // namespace zeq
