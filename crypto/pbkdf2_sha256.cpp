// PBKDF2-HMAC-SHA256 (RFC 8018 section 5.2) on OpenSSL's SHA-256.
//
// Why not PKCS5_PBKDF2_HMAC: OpenSSL 3.0 starts a fresh HMAC for every one
// of the 200 000 iterations the vault asks for (SEED-FACTS), and each start
// duplicates a digest context on the heap, then cleanses and frees it. On
// the 2-core VM that bookkeeping, not hashing, was most of the vault's
// PBKDF2 time (perf: OPENSSL_cleanse, EVP_MD_CTX_copy_ex, malloc and free
// on top; 94-112 ms against 22-27 here in one process, issue 14), and the
// vault opens at every start. Here the HMAC key's inner and outer SHA-256
// states are computed once and copied (plain structs) for each iteration,
// so an iteration is the two SHA-256 compressions RFC 2104 requires, done
// by OpenSSL's SHA-256 (SHA-NI or AVX2 where the CPU has them). The result
// is the same function: tests/unit/crypto_test.cpp checks RFC 7914's
// vectors and compares with PKCS5_PBKDF2_HMAC on assorted inputs.
//
// SHA256_Init/Update/Final are deprecated in OpenSSL 3.0 in favour of EVP,
// but the EVP route is exactly the per-call allocation avoided here; they
// remain part of OpenSSL 3's API, so their deprecation warning is silenced
// in this file only.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "crypto/hash.hpp"

namespace zeq {

namespace {

// Everything derived from the password, wiped when the derivation ends.
struct Pbkdf2State {
  SHA256_CTX inner{}, outer{};  // after absorbing key^ipad and key^opad
  SHA256_CTX work{};
  std::array<uint8_t, SHA256_DIGEST_LENGTH> u{}, t{};
  std::array<uint8_t, SHA256_CBLOCK> pad{};
  ~Pbkdf2State() {
    OPENSSL_cleanse(&inner, sizeof inner);
    OPENSSL_cleanse(&outer, sizeof outer);
    OPENSSL_cleanse(&work, sizeof work);
    OPENSSL_cleanse(u.data(), u.size());
    OPENSSL_cleanse(t.data(), t.size());
    OPENSSL_cleanse(pad.data(), pad.size());
  }

  // inner/outer from the HMAC key (hashed first if longer than a block).
  bool key(std::span<const uint8_t> password) {
    if (password.size() > SHA256_CBLOCK) {
      if (SHA256_Init(&work) != 1 || SHA256_Update(&work, password.data(), password.size()) != 1 ||
          SHA256_Final(u.data(), &work) != 1)
        return false;
      password = u;
    }
    pad.fill(0);
    std::copy(password.begin(), password.end(), pad.begin());
    for (auto& b : pad) b ^= 0x36;
    if (SHA256_Init(&inner) != 1 || SHA256_Update(&inner, pad.data(), pad.size()) != 1) return false;
    for (auto& b : pad) b ^= 0x36 ^ 0x5c;
    return SHA256_Init(&outer) == 1 && SHA256_Update(&outer, pad.data(), pad.size()) == 1;
  }

  // u = HMAC(key, message): finishes the inner hash started in work.
  bool finish_hmac() {
    if (SHA256_Final(u.data(), &work) != 1) return false;
    work = outer;
    return SHA256_Update(&work, u.data(), u.size()) == 1 && SHA256_Final(u.data(), &work) == 1;
  }
};

}  // namespace

bool pbkdf2_sha256(std::span<const uint8_t> password, std::span<const uint8_t> salt, int iterations,
                   std::span<uint8_t> out) {
  if (iterations < 1 || out.empty()) return false;
  Pbkdf2State s;
  if (!s.key(password)) return false;
  for (uint32_t block = 1; !out.empty(); ++block) {
    // U1 = HMAC(P, S || INT(i)), Uj = HMAC(P, Uj-1), T = U1 ^ ... ^ Uc.
    const uint8_t index[4] = {uint8_t(block >> 24), uint8_t(block >> 16), uint8_t(block >> 8), uint8_t(block)};
    s.work = s.inner;
    if (SHA256_Update(&s.work, salt.data(), salt.size()) != 1 || SHA256_Update(&s.work, index, sizeof index) != 1 ||
        !s.finish_hmac())
      return false;
    s.t = s.u;
    for (int j = 1; j < iterations; ++j) {
      s.work = s.inner;
      if (SHA256_Update(&s.work, s.u.data(), s.u.size()) != 1 || !s.finish_hmac()) return false;
      for (size_t k = 0; k < s.t.size(); ++k) s.t[k] ^= s.u[k];
    }
    const size_t n = std::min(out.size(), s.t.size());
    std::memcpy(out.data(), s.t.data(), n);
    out = out.subspan(n);
  }
  return true;
}

}  // namespace zeq
