// The byte layouts around the Noise messages: the 57-byte handshake payload
// and mac1 (PROTOCOL.md 4). mac1 lets a receiver drop junk for the price of
// one HMAC, before any Diffie-Hellman.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/bytes.hpp"
#include "crypto/hash.hpp"
#include "protocol/wire.hpp"

namespace zeq {

struct HandshakePayload {
  uint8_t version = wire::PROTOCOL_VERSION;
  std::string zid;            // 16 ASCII bytes
  uint64_t zeqond = 0;
  std::array<uint8_t, wire::NONCE_SIZE> nonce{};
};

std::array<uint8_t, wire::PAYLOAD_SIZE> encode_payload(const HandshakePayload& p);
// nullopt when the version is unknown or the ZID is not well-formed.
std::optional<HandshakePayload> decode_payload(ByteSpan bytes);

// SHA256("zeqvpn/mac1" || receiver_static_public), computed once per key.
Digest32 mac1_key_for(std::span<const uint8_t, 32> receiver_static_public);
// mac1 over all bytes of message before its last 16, written into those 16.
void write_mac1(const Digest32& mac1_key, MutableByteSpan message);
// Constant-time check of the last 16 bytes of message.
bool verify_mac1(const Digest32& mac1_key, ByteSpan message);

}  // namespace zeq
