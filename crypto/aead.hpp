// AES-256-GCM through OpenSSL EVP. Two shapes:
//  - aes256gcm_seal/open: one-shot, for the handshake (key changes per call);
//  - AeadContext: a context keyed once and reused for every packet of a
//    session, so the data path only sets the IV per packet. It encrypts in
//    place and returns the tag separately, because the zeqvpn wire format puts
//    the tag before the ciphertext.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/result.hpp"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace zeq {

inline constexpr size_t AEAD_TAG_SIZE = 16;
inline constexpr size_t AEAD_IV_SIZE = 12;
inline constexpr size_t AEAD_KEY_SIZE = 32;

// out = ciphertext || tag (plaintext.size() + 16 bytes). False when OpenSSL
// fails (out of memory); out is then not a message.
[[nodiscard]] bool aes256gcm_seal(std::span<const uint8_t, 32> key, std::span<const uint8_t, 12> iv,
                    std::span<const uint8_t> aad, std::span<const uint8_t> plaintext, uint8_t* out);
// in = ciphertext || tag; out gets in.size() - 16 bytes. False on a bad tag.
[[nodiscard]] bool aes256gcm_open(std::span<const uint8_t, 32> key, std::span<const uint8_t, 12> iv,
                    std::span<const uint8_t> aad, std::span<const uint8_t> in, uint8_t* out);

class AeadContext {
 public:
  enum class Direction { kSeal, kOpen };
  // Keys a context; an error (never an exception) when OpenSSL cannot, so a
  // failure on the control thread costs one session, not the daemon.
  static Result<AeadContext> create(Direction dir, std::span<const uint8_t, 32> key);
  // An empty context: every seal and open fails.
  AeadContext() = default;
  ~AeadContext();
  AeadContext(const AeadContext&) = delete;
  AeadContext& operator=(const AeadContext&) = delete;
  AeadContext(AeadContext&& o) noexcept;
  AeadContext& operator=(AeadContext&& o) noexcept;

  // Encrypts data in place and writes the 16-byte tag. On false the data is
  // garbage and must not be sent.
  [[nodiscard]] bool seal(const uint8_t* iv, std::span<const uint8_t> aad, std::span<uint8_t> data, uint8_t* tag);
  // Decrypts data in place; false (data then undefined) when the tag fails.
  [[nodiscard]] bool open(const uint8_t* iv, std::span<const uint8_t> aad, std::span<uint8_t> data, const uint8_t* tag);
  // Authentication only (GMAC): the tag over aad_a || aad_b, nothing
  // encrypted. For messages whose body is someone else's ciphertext (a
  // relayed message), so the hop authenticates it without a second
  // encryption. tag_only on a seal context, verify_tag on an open one.
  [[nodiscard]] bool tag_only(const uint8_t* iv, std::span<const uint8_t> aad_a, std::span<const uint8_t> aad_b,
                              uint8_t* tag);
  [[nodiscard]] bool verify_tag(const uint8_t* iv, std::span<const uint8_t> aad_a, std::span<const uint8_t> aad_b,
                                const uint8_t* tag);

 private:
  explicit AeadContext(EVP_CIPHER_CTX* ctx) : ctx_(ctx) {}
  EVP_CIPHER_CTX* ctx_ = nullptr;
};

}  // namespace zeq
