// PBKDF2-HMAC-SHA256 (RFC 8018 section 5.2) on OpenSSL's SHA-256.
//
// Why not PKCS5_PBKDF2_HMAC: OpenSSL 3.0 starts a fresh HMAC for every one
// of the 200 000 iterations the vault asks for (SEED-FACTS), and each start
// duplicates a digest context on the heap, then cleanses and frees it. On
// the 2-core VM that bookkeeping, not hashing, was most of the vault's
// PBKDF2 time (perf: OPENSSL_cleanse, EVP_MD_CTX_copy_ex, malloc and free
// on top; 94-112 ms against 22 here, issue 14), and the vault opens at every
// start, where this is the longest single step.
//
// Here the HMAC key's inner and outer SHA-256 states are computed once.
// Every iteration after the first hashes exactly one 32-byte value behind a
// 64-byte key block, so its padded block is always the value, 0x80, zeros
// and the length 768 bits: an iteration is two calls of OpenSSL's block
// function (SHA256_Transform: SHA-NI or AVX2 where the CPU has them) from
// those states, with no buffering, padding or length bookkeeping per call.
// That took the vault's derivation from 27 to 21 ms on the 2-core VM
// (Update/Final per iteration cost a fifth of the time). The result is the
// same function: tests/unit/crypto_test.cpp checks RFC 7914's vectors and
// compares with PKCS5_PBKDF2_HMAC on assorted inputs.
//
// SHA256_Init/Update/Final/Transform are deprecated in OpenSSL 3.0 in favour
// of EVP, but the EVP route is exactly the per-call allocation avoided here;
// they remain in OpenSSL 3's headers, so their deprecation warning is
// silenced in this file only. Transform and the context's layout are not in
// OpenSSL's manual: block_function_agrees() below checks them at run time.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>

#include "crypto/hash.hpp"

namespace zeq {

namespace {

constexpr size_t kDigest = SHA256_DIGEST_LENGTH;

// A SHA-256 state's words (host order) as the digest's bytes (big-endian).
void state_to_bytes(const SHA_LONG (&h)[8], uint8_t* out) {
  for (size_t i = 0; i < 8; ++i) {
    const uint32_t be = htonl(h[i]);
    std::memcpy(out + 4 * i, &be, 4);
  }
}

// Everything derived from the password, wiped when the derivation ends.
struct Pbkdf2State {
  SHA256_CTX inner{}, outer{};  // after absorbing key^ipad and key^opad
  SHA256_CTX work{};
  // The block hashed after the key block: a 32-byte value, then padding for
  // a 96-byte message (0x80, zeros, the length 768 in bits, big-endian).
  std::array<uint8_t, SHA256_CBLOCK> block{};
  SHA_LONG t[8]{};  // T = U1 ^ U2 ^ ... as state words
  std::array<uint8_t, SHA256_CBLOCK> pad{};
  ~Pbkdf2State() {
    OPENSSL_cleanse(&inner, sizeof inner);
    OPENSSL_cleanse(&outer, sizeof outer);
    OPENSSL_cleanse(&work, sizeof work);
    OPENSSL_cleanse(block.data(), block.size());
    OPENSSL_cleanse(t, sizeof t);
    OPENSSL_cleanse(pad.data(), pad.size());
  }

  // inner/outer from the HMAC key (hashed first if longer than a block).
  bool key(std::span<const uint8_t> password) {
    if (password.size() > SHA256_CBLOCK) {
      if (SHA256_Init(&work) != 1 || SHA256_Update(&work, password.data(), password.size()) != 1 ||
          SHA256_Final(block.data(), &work) != 1)
        return false;
      password = std::span<const uint8_t>(block.data(), kDigest);
    }
    pad.fill(0);
    std::copy(password.begin(), password.end(), pad.begin());
    for (auto& b : pad) b ^= 0x36;
    if (SHA256_Init(&inner) != 1 || SHA256_Update(&inner, pad.data(), pad.size()) != 1) return false;
    for (auto& b : pad) b ^= 0x36 ^ 0x5c;
    if (SHA256_Init(&outer) != 1 || SHA256_Update(&outer, pad.data(), pad.size()) != 1) return false;
    block.fill(0);
    block[kDigest] = 0x80;
    block[SHA256_CBLOCK - 2] = (SHA256_CBLOCK + kDigest) * 8 >> 8;
    block[SHA256_CBLOCK - 1] = uint8_t((SHA256_CBLOCK + kDigest) * 8);
    return true;
  }

  // U1 = HMAC(key, salt || INT(index)) into the block's first 32 bytes.
  bool first(std::span<const uint8_t> salt, uint32_t index) {
    const uint8_t be[4] = {uint8_t(index >> 24), uint8_t(index >> 16), uint8_t(index >> 8), uint8_t(index)};
    work = inner;
    if (SHA256_Update(&work, salt.data(), salt.size()) != 1 || SHA256_Update(&work, be, sizeof be) != 1 ||
        SHA256_Final(block.data(), &work) != 1)
      return false;
    work = outer;
    if (SHA256_Update(&work, block.data(), kDigest) != 1 || SHA256_Final(block.data(), &work) != 1) return false;
    for (size_t i = 0; i < 8; ++i)
      t[i] = static_cast<SHA_LONG>(block[4 * i]) << 24 | static_cast<SHA_LONG>(block[4 * i + 1]) << 16 |
             static_cast<SHA_LONG>(block[4 * i + 2]) << 8 | static_cast<SHA_LONG>(block[4 * i + 3]);
    return true;
  }

  // Uj = HMAC(key, Uj-1) for the value in the block, which it replaces;
  // T ^= Uj. The length fields in work are not used by SHA256_Transform.
  void next() {
    std::copy(std::begin(inner.h), std::end(inner.h), work.h);
    SHA256_Transform(&work, block.data());
    state_to_bytes(work.h, block.data());
    std::copy(std::begin(outer.h), std::end(outer.h), work.h);
    SHA256_Transform(&work, block.data());
    state_to_bytes(work.h, block.data());
    for (size_t i = 0; i < 8; ++i) t[i] ^= work.h[i];
  }
};

bool pbkdf2_with_block_function(std::span<const uint8_t> password, std::span<const uint8_t> salt, int iterations,
                                std::span<uint8_t> out) {
  Pbkdf2State s;
  if (!s.key(password)) return false;
  for (uint32_t index = 1; !out.empty(); ++index) {
    // T_i = U1 ^ ... ^ Uc, U1 = HMAC(P, S || INT(i)), Uj = HMAC(P, Uj-1).
    if (!s.first(salt, index)) return false;
    for (int j = 1; j < iterations; ++j) s.next();
    uint8_t* t_bytes = s.pad.data();  // the key pads are no longer needed
    state_to_bytes(s.t, t_bytes);
    const size_t n = std::min(out.size(), kDigest);
    std::memcpy(out.data(), t_bytes, n);
    out = out.subspan(n);
  }
  return true;
}

// The block-function path relies on more than OpenSSL documents: on
// SHA256_Transform (declared in <openssl/sha.h>, not in its manual), on
// SHA256_CTX's state words being in host order with the digest their
// big-endian bytes, and on Transform ignoring the length fields. All hold
// in OpenSSL 1.1 and 3, and the unit tests compare with PKCS5_PBKDF2_HMAC;
// this checks it once per process too (an OpenSSL that changed would
// otherwise seal the vault under a different key), and if they ever
// disagree every derivation takes the slow documented route.
bool block_function_agrees() {
  static const bool agrees = [] {
    const uint8_t password[] = "zeqvpn block function check";
    const uint8_t salt[] = "salt";
    std::array<uint8_t, 40> ours{}, reference{};  // two blocks, the second partial
    return pbkdf2_with_block_function(password, salt, 3, ours) &&
           PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(password), sizeof password, salt, sizeof salt, 3,
                             EVP_sha256(), int(reference.size()), reference.data()) == 1 &&
           ours == reference;
  }();
  return agrees;
}

}  // namespace

bool pbkdf2_sha256(std::span<const uint8_t> password, std::span<const uint8_t> salt, int iterations,
                   std::span<uint8_t> out) {
  if (iterations < 1 || out.empty()) return false;
  if (block_function_agrees()) return pbkdf2_with_block_function(password, salt, iterations, out);
  if (password.size() > size_t(INT_MAX) || salt.size() > size_t(INT_MAX) || out.size() > size_t(INT_MAX)) return false;
  return PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(password.data()), int(password.size()), salt.data(),
                           int(salt.size()), iterations, EVP_sha256(), int(out.size()), out.data()) == 1;
}

}  // namespace zeq
