// The mesh-join exchange (docs/protocol.md, "Onboarding (mesh join)"): a
// joining node proves an invite's one-time secret to the bootstrap node and
// receives its certificate and the mesh secret. Four frames over TCP, each
// `len(2) type(1) body`:
//   0x30 hello      joiner -> bootstrap  Noise_IKpsk2 message 1; payload
//                   version(1)=1 mesh_id(32) invite_id(16)
//   0x31 challenge  bootstrap -> joiner  Noise message 2 (psk = the secret),
//                   empty payload
//   0x32 request    joiner -> bootstrap  AEAD(k1, n=0, ad=type) of
//                   version(1)=1 signing_public(32): the proof of the secret
//   0x33 answer     bootstrap -> joiner  AEAD(k2, n=0, ad=type) of
//                   status(1), then for status 0: certificate, CA public key,
//                   mesh secret, bootstrap certificate (each len(2) bytes) and
//                   the bootstrap's tunnel UDP port(2); otherwise len(2) message
// Noise: Noise_IKpsk2_25519_AESGCM_SHA256, prologue "zeqvpn/enroll/1", the
// responder's static key from the token. Pure: keys and ephemerals are
// handed in, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/bytes.hpp"
#include "core/result.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/secret_bytes.hpp"
#include "crypto/x25519.hpp"
#include "protocol/enrollment_token.hpp"
#include "protocol/noise_handshake.hpp"

namespace zeq::enroll {

enum FrameType : uint8_t { kHello = 0x30, kChallenge = 0x31, kRequest = 0x32, kAnswer = 0x33 };
// A frame (type and body) is at most this long; the TCP length prefix says so.
inline constexpr size_t MAX_FRAME = 4096;
inline constexpr char PROLOGUE[] = "zeqvpn/enroll/1";

// Why the bootstrap node did not enrol a joiner that proved the secret.
enum class JoinStatus : uint8_t { kOk = 0, kExpired = 1, kUsed = 2, kRevoked = 3, kOtherMesh = 4, kFailed = 5 };
const char* join_status_name(JoinStatus s);

struct JoinAnswer {
  JoinStatus status = JoinStatus::kOk;
  std::string message;  // status != kOk: one line for the user
  Bytes certificate;    // the joiner's, encoded
  Bytes ca_public;      // encode_ca_public_key
  Bytes mesh_secret;    // secret: the holder wipes it
  Bytes bootstrap_certificate;
  uint16_t udp_port = 0;
  ~JoinAnswer() { secure_wipe(mesh_secret.data(), mesh_secret.size()); }
  JoinAnswer() = default;
  JoinAnswer(JoinAnswer&&) = default;
  JoinAnswer& operator=(JoinAnswer&&) = default;
};
Bytes encode_answer(const JoinAnswer& a);  // holds the secret: the caller wipes it
Result<JoinAnswer> decode_answer(ByteSpan plaintext);

// The joiner's side.
class JoinerHandshake {
 public:
  JoinerHandshake(const InviteToken& token, const X25519Keypair& node, std::span<const uint8_t, 32> ephemeral);
  Result<Bytes> hello();
  // False: the bootstrap node does not know this secret (or is not the
  // token's node); nothing else is learned.
  Status read_challenge(ByteSpan frame);
  Result<Bytes> request(const Ed25519PublicKey& signing_public);
  Result<JoinAnswer> read_answer(ByteSpan frame);

 private:
  Digest32 mesh_id_;
  InviteId invite_id_;
  noise::HandshakeState hs_;
  noise::CipherState send_, recv_;
};

// The bootstrap node's side, one per connection.
class BootstrapHandshake {
 public:
  explicit BootstrapHandshake(const X25519Keypair& node);
  struct Hello {
    Digest32 mesh_id{};
    InviteId invite_id{};
    PublicKey joiner{};
  };
  Result<Hello> read_hello(ByteSpan frame);
  // The psk is the invite's secret (random bytes for an unknown invite, so
  // that an unknown id and a wrong secret look the same on the wire).
  Result<Bytes> challenge(std::span<const uint8_t, 32> psk, std::span<const uint8_t, 32> ephemeral);
  // The proof: decrypts only when the joiner holds the secret.
  Result<Ed25519PublicKey> read_request(ByteSpan frame);
  Result<Bytes> answer(const JoinAnswer& a);

 private:
  noise::HandshakeState hs_;
  noise::CipherState send_, recv_;
  bool proven_ = false;
};

}  // namespace zeq::enroll
