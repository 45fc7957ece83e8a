// The zeqvpn handshake of PROTOCOL.md sections 3-4: Noise IKpsk2 wrapped in
// the HandshakeInit/HandshakeResponse layouts, the pair psk, K_mesh and the
// data keys. Pure computation: the caller passes the clock's Zeqond and the
// randomness (drawn from a RandomSource in the daemon, fixed in the vector
// tests), and decides about peers, drift and replays with what
// read_initiation() returns.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/bytes.hpp"
#include "crypto/random_source.hpp"
#include "crypto/secret_bytes.hpp"
#include "identity/key_file.hpp"
#include "protocol/handshake_messages.hpp"
#include "protocol/noise_handshake.hpp"
#include "protocol/wire.hpp"

namespace zeq {

// Why a handshake message was refused. Every refusal is counted by reason.
enum class HandshakeReject : uint8_t {
  kNone,
  kBadSize,
  kBadMac1,
  kBadNoise,       // AEAD or DH failure inside Noise
  kBadPayload,     // unknown version or malformed ZID
  kUnknownPeer,    // static key not configured
  kKeyMismatch,    // static key does not belong to the ZID in the payload
  kClockDrift,     // |z - Z(now)| > 1
  kStaleZeqond,    // lower than the last accepted from that peer
  kReplay,         // (Zeqond, nonce) seen before
  kUnexpected,     // a response nobody waits for
  kPeerDown,       // the peer is administratively down (zeqvpnctl down)
  kBadCookieReply, // a cookie reply for no handshake of ours, or not for our last mac1
  // Certificates (mesh/mesh_trust.hpp): a peer the configuration does not
  // name proves itself with one, and any certificate sent is checked.
  kCertMalformed,     // not a canonical certificate, or bad extension entries
  kCertUnknownIssuer, // no trusted CA issued it (or this node trusts none)
  kCertBadSignature,
  kCertNotYetValid,
  kCertExpired,
  kCertRevoked,
  kCertKeyMismatch,   // not the static key or the ZID the handshake proved
  kCertMissing,       // a peer that proved a certificate before sent none
  kCount,
};
const char* to_string(HandshakeReject r);

// The per-handshake random values (the ephemeral key is wiped with them).
struct HandshakeRandomness {
  Key32 ephemeral_private;
  std::array<uint8_t, wire::NONCE_SIZE> nonce{};
  uint32_t sender_index = 0;
  // Fresh values from `random` for a handshake that uses sender_index.
  static HandshakeRandomness draw(RandomSource& random, uint32_t sender_index);
};

// What a finished handshake yields: the two data keys and the indices.
struct SessionKeys {
  Key32 send_key;
  Key32 recv_key;
  uint32_t local_index = 0;
  uint32_t remote_index = 0;
  bool initiator = false;
};

// psk(A,B) = HMAC(mesh, "zeqvpn/psk/v1" || zid_A || zid_B).
Key32 pair_psk(ByteSpan mesh_secret, const std::string& zid_a, const std::string& zid_b);
// K_mesh = HMAC(mesh, zid_A || zid_B || nonce_A || nonce_B || be64(zeqond_A)).
Key32 mesh_key(ByteSpan mesh_secret, const std::string& zid_a, const std::string& zid_b,
               ByteSpan nonce_a, ByteSpan nonce_b, uint64_t zeqond_a);
// key_i2r / key_r2i from K_mesh and Noise Split() (PROTOCOL.md 4.3).
void derive_data_keys(const Key32& k_mesh, const Key32& k1, const Key32& k2, Key32& key_i2r, Key32& key_r2i);

bool within_drift(uint64_t z, uint64_t now_zeqond);

// A peer as the handshake needs it.
struct PeerKey {
  std::string zid;
  PublicKey public_key{};
};

// The initiator's side, alive between sending message 1 and reading message 2.
class InitiatorHandshake {
 public:
  // Builds message 1 into out: PROTOCOL.md v1 when `extensions` (encoded,
  // protocol/handshake_extensions.hpp) is empty, else the extended form;
  // out.size() must be initiation_size(extensions.size()).
  static std::unique_ptr<InitiatorHandshake> start(const LocalIdentity& local, const PeerKey& peer,
                                                   ByteSpan mesh_secret, uint64_t zeqond,
                                                   const HandshakeRandomness& rnd, ByteSpan extensions,
                                                   MutableByteSpan out);
  static std::unique_ptr<InitiatorHandshake> start(const LocalIdentity& local, const PeerKey& peer,
                                                   ByteSpan mesh_secret, uint64_t zeqond,
                                                   const HandshakeRandomness& rnd,
                                                   std::span<uint8_t, wire::INIT_SIZE> out) {
    return start(local, peer, mesh_secret, zeqond, rnd, {}, MutableByteSpan(out));
  }
  // Reads message 2 (without mac2). On success fills keys, and
  // received_extensions() holds the responder's extension bytes; otherwise
  // returns the reason.
  HandshakeReject finish(ByteSpan message, uint64_t now_zeqond, ByteSpan mesh_secret, SessionKeys& keys);

  uint32_t sender_index() const { return sender_index_; }
  // Whether message 1 carried extensions (a responder answers in kind).
  bool sent_extensions() const { return sent_extensions_; }
  const Bytes& received_extensions() const { return received_extensions_; }

 private:
  InitiatorHandshake() = default;
  std::unique_ptr<noise::HandshakeState> noise_;
  const LocalIdentity* local_ = nullptr;
  PeerKey peer_;
  Digest32 own_mac1_key_{};
  uint32_t sender_index_ = 0;
  uint64_t zeqond_ = 0;
  std::array<uint8_t, wire::NONCE_SIZE> nonce_{};
  bool sent_extensions_ = false;
  Bytes received_extensions_;
};

// The size of a handshake message carrying `extension_bytes` of extensions
// (0: the v1 size), without mac2.
size_t initiation_size(size_t extension_bytes);
size_t response_size(size_t extension_bytes);

// Message 1 as the responder read it: who claims to be calling and what they
// said. The caller checks the claims before write_response().
struct ReceivedInitiation {
  std::unique_ptr<noise::HandshakeState> noise;
  uint32_t sender_index = 0;
  PublicKey initiator_static{};
  HandshakePayload payload;
  bool had_extensions = false;
  Bytes extensions;  // the initiator's extension bytes, still encoded
};

// Checks size, type and mac1, then runs Noise. Does not judge the peer.
HandshakeReject read_initiation(const LocalIdentity& local, const Digest32& own_mac1_key, ByteSpan message,
                                ReceivedInitiation& out);
// Builds message 2 into out (out.size() == response_size(extensions.size()))
// and derives the keys.
bool write_response(ReceivedInitiation& init, const LocalIdentity& local, ByteSpan mesh_secret,
                    uint64_t zeqond, const HandshakeRandomness& rnd, ByteSpan extensions, MutableByteSpan out,
                    SessionKeys& keys);
inline bool write_response(ReceivedInitiation& init, const LocalIdentity& local, ByteSpan mesh_secret,
                           uint64_t zeqond, const HandshakeRandomness& rnd,
                           std::span<uint8_t, wire::RESPONSE_SIZE> out, SessionKeys& keys) {
  return write_response(init, local, mesh_secret, zeqond, rnd, {}, MutableByteSpan(out), keys);
}

}  // namespace zeq
