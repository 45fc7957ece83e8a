#include "crypto/password_hash.hpp"

#include <sodium.h>

#include <string>

#include "crypto/secret_bytes.hpp"

namespace zeq {

static_assert(ARGON2ID_SALT_BYTES == crypto_pwhash_argon2id_SALTBYTES);

Status argon2id_derive(std::span<const uint8_t> password, std::span<const uint8_t, ARGON2ID_SALT_BYTES> salt,
                       uint64_t opslimit, size_t memlimit, std::span<uint8_t> out) {
  crypto_init();
  const int rc = crypto_pwhash(out.data(), out.size(), reinterpret_cast<const char*>(password.data()), password.size(),
                               salt.data(), opslimit, memlimit, crypto_pwhash_ALG_ARGON2ID13);
  if (rc == 0) return Status::ok();
  secure_wipe(out.data(), out.size());
  return Status::error("Argon2id failed (" + std::to_string(opslimit) + " passes over " +
                       std::to_string(memlimit >> 20) + " MiB): out of memory or limits out of range; free memory "
                       "or raise the process's memory limit");
}

}  // namespace zeq
