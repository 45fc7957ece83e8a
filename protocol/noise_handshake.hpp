// The Noise Protocol Framework (rev. 34) handshake machinery for the three
// patterns zeqvpn needs: IKpsk2 (the zeqvpn handshake), and IK and NN (only to
// replay the published test vectors). DH = X25519, cipher = AES-256-GCM,
// hash = SHA-256. Everything is in memory: no I/O, no clock, no randomness
// (the caller supplies every ephemeral key).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "crypto/secret_bytes.hpp"
#include "crypto/x25519.hpp"

namespace zeq::noise {

inline constexpr size_t DH_LEN = 32;
inline constexpr size_t HASH_LEN = 32;
inline constexpr size_t TAG_LEN = 16;

// A Noise CipherState: key k and nonce n. Used by the handshake, and for the
// transport phase only in the test-vector replay (zeqvpn derives its own data
// keys from Split(), PROTOCOL.md 4.3).
class CipherState {
 public:
  void initialize_key(std::span<const uint8_t, 32> key) { k_.assign(key); has_key_ = true; n_ = 0; }
  bool has_key() const { return has_key_; }
  // out = ciphertext || tag; plaintext passes through when there is no key.
  // False when the cipher failed; out is then not a message.
  [[nodiscard]] bool encrypt_with_ad(ByteSpan ad, ByteSpan plaintext, uint8_t* out);
  [[nodiscard]] bool decrypt_with_ad(ByteSpan ad, ByteSpan ciphertext, uint8_t* out);
  size_t overhead() const { return has_key_ ? TAG_LEN : 0; }

 private:
  std::array<uint8_t, 12> nonce() const;
  Key32 k_;
  bool has_key_ = false;
  uint64_t n_ = 0;
};

enum class Pattern { NN, IK, IKpsk2 };

// The handshake state machine of one side.
class HandshakeState {
 public:
  struct Options {
    Pattern pattern = Pattern::IKpsk2;
    bool initiator = true;
    std::string protocol_name;       // e.g. "Noise_IKpsk2_25519_AESGCM_SHA256"
    Bytes prologue;
    const X25519Keypair* s = nullptr;  // local static (IK*)
    std::optional<PublicKey> rs;       // remote static, known to the initiator (IK*)
    // The private key of our "e" token: the caller draws it (or a test fixes
    // it); a responder may give it later with set_ephemeral(). Secret, so
    // held in wiped memory, like the psk.
    std::optional<Key32> ephemeral;
    std::optional<Key32> psk;          // may be set later with set_psk()
  };

  explicit HandshakeState(const Options& o);

  // The psk for psk2 may be learned from the first message (zeqvpn: the
  // responder learns the initiator's ZID from the payload).
  void set_psk(std::span<const uint8_t, 32> psk) { psk_.assign(psk); has_psk_ = true; }
  // The ephemeral private key for the next "e" token (zeqvpn picks it when it
  // decides to answer, after reading message 1).
  void set_ephemeral(std::span<const uint8_t, 32> e) { ephemeral_.emplace(e); }

  // Size of the next message for a payload of payload_len bytes.
  size_t message_size(size_t payload_len) const;
  // Writes the next message into out (message_size() bytes). False if a DH
  // yields zero, a required key (ephemeral, psk) is missing or the cipher fails.
  [[nodiscard]] bool write_message(ByteSpan payload, uint8_t* out);
  // Reads the next message; payload gets the decrypted payload. False on any
  // failure (bad tag, wrong length, bad DH); the state is then unusable.
  [[nodiscard]] bool read_message(ByteSpan message, Bytes& payload);

  bool finished() const { return message_index_ >= 2; }
  const std::array<uint8_t, 32>& handshake_hash() const { return h_; }
  const std::optional<PublicKey>& remote_static() const { return rs_; }
  const PublicKey& local_ephemeral_public() const { return e_.public_key; }
  // Noise Split(): k1 (initiator to responder) and k2.
  void split(Key32& k1, Key32& k2) const;

 private:
  enum class Token { E, S, EE, ES, SE, SS, PSK };
  std::vector<Token> tokens(size_t message_index) const;

  void mix_hash(ByteSpan data);
  void mix_key(ByteSpan ikm);
  void mix_key_and_hash(ByteSpan ikm);
  bool encrypt_and_hash(ByteSpan plaintext, uint8_t* out);
  bool decrypt_and_hash(ByteSpan ciphertext, uint8_t* out);
  bool dh_mix(const Key32& priv, const PublicKey& pub);

  Pattern pattern_;
  bool initiator_;
  bool psk_mode_;
  std::array<uint8_t, 32> h_{};
  Key32 ck_;
  CipherState cipher_;
  X25519Keypair s_;
  bool has_s_ = false;
  X25519Keypair e_;
  std::optional<Key32> ephemeral_;
  std::optional<PublicKey> rs_;
  PublicKey re_{};
  Key32 psk_;
  bool has_psk_ = false;
  size_t message_index_ = 0;
};

}  // namespace zeq::noise
