// The fixed keys and randomness of the fuzz targets: the values of
// tests/data/zeqvpn-vectors.json, written in here because a fuzz target must
// not read files. With them the handshake targets are the vectors' responder
// and initiator, so the vectors' messages (the seed corpus) get all the way
// through Noise, and every run is deterministic.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/bytes.hpp"
#include "crypto/secret_bytes.hpp"
#include "identity/key_file.hpp"
#include "protocol/handshake.hpp"

namespace zeq::fuzz {

inline constexpr char MESH_SECRET_HEX[] = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
inline constexpr uint64_t VECTOR_ZEQOND = 2310167310;

inline constexpr char INITIATOR_PRIVATE_HEX[] = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
inline constexpr char INITIATOR_EPHEMERAL_HEX[] = "4142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60";
inline constexpr char INITIATOR_NONCE_HEX[] = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
inline constexpr uint32_t INITIATOR_SENDER_INDEX = 0x11223344;

inline constexpr char RESPONDER_PRIVATE_HEX[] = "2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40";
inline constexpr char RESPONDER_EPHEMERAL_HEX[] = "6162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80";
inline constexpr char RESPONDER_NONCE_HEX[] = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
inline constexpr uint32_t RESPONDER_SENDER_INDEX = 0x55667788;

// key_i2r: the key the vectors' data message i2r (counter 0) opens with.
inline constexpr char KEY_I2R_HEX[] = "22c7c919996fc059acaff2e11bf2c2dc3c2033f92c0e9b0556369868b5d0af8b";

inline Bytes hex_bytes(const char* hex) { return *from_hex(hex); }

inline LocalIdentity identity_from_hex(const char* private_hex) {
  return identity_from_private_key_text(private_hex).value();
}

inline HandshakeRandomness randomness(const char* ephemeral_hex, const char* nonce_hex, uint32_t sender_index) {
  HandshakeRandomness r;
  r.ephemeral_private.assign(hex_bytes(ephemeral_hex));
  Bytes nonce = hex_bytes(nonce_hex);
  std::copy(nonce.begin(), nonce.end(), r.nonce.begin());
  r.sender_index = sender_index;
  return r;
}

}  // namespace zeq::fuzz
