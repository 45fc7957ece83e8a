// Fuzz target: a HandshakeInit (0x01) as the responder reads it off the wire.
// The responder is the vectors' (fixed keys). mac1 is computed over the
// fuzzed bytes before parsing, as any sender who knows the responder's
// public key can do, so inputs get past mac1 and into Noise instead of
// stopping at the cheap check. An initiation that reads cleanly is judged
// the way the session manager judges it and answered with a response.
#include <array>
#include <cstddef>
#include <cstdint>

#include "fixed_keys.hpp"
#include "protocol/handshake.hpp"
#include "protocol/handshake_replay_guard.hpp"
#include "protocol/wire.hpp"

namespace {

struct Responder {
  zeq::LocalIdentity identity = zeq::fuzz::identity_from_hex(zeq::fuzz::RESPONDER_PRIVATE_HEX);
  zeq::Digest32 mac1_key = zeq::mac1_key_for(identity.keypair.public_key);
  zeq::Bytes mesh_secret = zeq::fuzz::hex_bytes(zeq::fuzz::MESH_SECRET_HEX);
  zeq::HandshakeRandomness randomness = zeq::fuzz::randomness(
      zeq::fuzz::RESPONDER_EPHEMERAL_HEX, zeq::fuzz::RESPONDER_NONCE_HEX, zeq::fuzz::RESPONDER_SENDER_INDEX);
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Responder responder;
  zeq::Bytes message(data, data + size);
  if (message.size() == zeq::wire::INIT_SIZE) zeq::write_mac1(responder.mac1_key, message);

  zeq::ReceivedInitiation received;
  if (zeq::read_initiation(responder.identity, responder.mac1_key, message, received) != zeq::HandshakeReject::kNone)
    return 0;
  // What the session manager does next: drift and replay checks, then the reply.
  (void)zeq::within_drift(received.payload.zeqond, zeq::fuzz::VECTOR_ZEQOND);
  zeq::HandshakeReplayGuard guard;
  if (guard.check(received.payload.zeqond, received.payload.nonce) == zeq::HandshakeReject::kNone)
    guard.accept(received.payload.zeqond, received.payload.nonce);
  std::array<uint8_t, zeq::wire::RESPONSE_SIZE> response{};
  zeq::SessionKeys keys;
  (void)zeq::write_response(received, responder.identity, responder.mesh_secret, zeq::fuzz::VECTOR_ZEQOND,
                            responder.randomness, response, keys);
  return 0;
}
