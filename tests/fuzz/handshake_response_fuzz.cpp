// Fuzz target: a HandshakeResponse (0x02) as the initiator reads it while its
// handshake is pending. The initiator is the vectors' (fixed keys and
// randomness), so its pending state is the one the vectors' response
// completes. The target writes the pending handshake's index into the
// receiver field and computes mac1 over the fuzzed bytes (both are known to
// anyone who saw the initiation), so inputs get into Noise. finish() works
// on a copy of the pending state, so one pending handshake serves every run.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "fixed_keys.hpp"
#include "protocol/handshake.hpp"
#include "protocol/wire.hpp"

namespace {

struct PendingInitiator {
  zeq::LocalIdentity identity = zeq::fuzz::identity_from_hex(zeq::fuzz::INITIATOR_PRIVATE_HEX);
  zeq::LocalIdentity responder = zeq::fuzz::identity_from_hex(zeq::fuzz::RESPONDER_PRIVATE_HEX);
  zeq::Digest32 own_mac1_key = zeq::mac1_key_for(identity.keypair.public_key);
  zeq::Bytes mesh_secret = zeq::fuzz::hex_bytes(zeq::fuzz::MESH_SECRET_HEX);
  std::unique_ptr<zeq::InitiatorHandshake> handshake;

  PendingInitiator() {
    std::array<uint8_t, zeq::wire::INIT_SIZE> initiation{};
    auto rnd = zeq::fuzz::randomness(zeq::fuzz::INITIATOR_EPHEMERAL_HEX, zeq::fuzz::INITIATOR_NONCE_HEX,
                                     zeq::fuzz::INITIATOR_SENDER_INDEX);
    handshake = zeq::InitiatorHandshake::start(identity, zeq::PeerKey{responder.zid, responder.keypair.public_key},
                                               mesh_secret, zeq::fuzz::VECTOR_ZEQOND, rnd, initiation);
    if (!handshake) __builtin_trap();  // the fixed keys are broken, not the parser
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static PendingInitiator initiator;
  zeq::Bytes message(data, data + size);
  if (message.size() == zeq::wire::RESPONSE_SIZE) {
    zeq::store_be32(message.data() + zeq::wire::RESPONSE_RECEIVER_INDEX_OFFSET, initiator.handshake->sender_index());
    zeq::write_mac1(initiator.own_mac1_key, message);
  }
  zeq::SessionKeys keys;
  (void)initiator.handshake->finish(message, zeq::fuzz::VECTOR_ZEQOND, initiator.mesh_secret, keys);
  return 0;
}
