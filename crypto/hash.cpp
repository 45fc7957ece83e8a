#include "crypto/hash.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>
#include <stdexcept>

namespace zeq {

namespace {
struct MdCtxFree { void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); } };
struct MacFree { void operator()(EVP_MAC* m) const { EVP_MAC_free(m); } };
struct MacCtxFree { void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); } };
struct KdfFree { void operator()(EVP_KDF* k) const { EVP_KDF_free(k); } };
struct KdfCtxFree { void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); } };

// Fetched algorithm objects are immutable and shareable between threads.
EVP_MAC* hmac_algorithm() {
  static std::unique_ptr<EVP_MAC, MacFree> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) throw std::runtime_error("OpenSSL has no HMAC");
  return mac.get();
}
EVP_KDF* hkdf_algorithm() {
  static std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) throw std::runtime_error("OpenSSL has no HKDF");
  return kdf.get();
}
}  // namespace

Digest32 sha256(std::initializer_list<std::span<const uint8_t>> parts) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  Digest32 out{};
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 init failed");
  for (auto p : parts) EVP_DigestUpdate(ctx.get(), p.data(), p.size());
  EVP_DigestFinal_ex(ctx.get(), out.data(), &len);
  return out;
}

Digest32 sha256(std::span<const uint8_t> data) { return sha256({data}); }

void hmac_sha256(std::span<const uint8_t> key, std::initializer_list<std::span<const uint8_t>> parts,
                 std::span<uint8_t, 32> out) {
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(hmac_algorithm()));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  // OpenSSL rejects a null key pointer even for an empty key.
  static const uint8_t empty = 0;
  const uint8_t* k = key.empty() ? &empty : key.data();
  if (!ctx || EVP_MAC_init(ctx.get(), k, key.size(), params) != 1)
    throw std::runtime_error("HMAC init failed");
  for (auto p : parts) EVP_MAC_update(ctx.get(), p.data(), p.size());
  size_t len = 0;
  EVP_MAC_final(ctx.get(), out.data(), &len, out.size());
}

Digest32 hmac_sha256(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  Digest32 out{};
  hmac_sha256(key, {data}, out);
  return out;
}

bool hkdf_sha256(std::span<const uint8_t> salt, std::span<const uint8_t> ikm,
                 std::span<const uint8_t> info, std::span<uint8_t> out) {
  // Extract by hand: OpenSSL's HKDF refuses an empty IKM, which Noise's
  // Split() uses. PRK = HMAC(salt, IKM) is RFC 5869's extract step (an empty
  // salt is the same HMAC key as HashLen zero bytes).
  Digest32 prk = hmac_sha256(salt, ikm);
  std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(hkdf_algorithm()));
  if (!ctx) return false;
  char digest[] = "SHA256";
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, prk.data(), prk.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(info.data()), info.size()),
      OSSL_PARAM_construct_end()};
  bool ok = EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) == 1;
  OPENSSL_cleanse(prk.data(), prk.size());
  return ok;
}

}  // namespace zeq
