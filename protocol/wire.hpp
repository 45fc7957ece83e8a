// Message types and sizes of PROTOCOL.md v1. One place for every number that
// fixes the wire layout.
#pragma once

#include <cstddef>
#include <cstdint>

namespace zeq::wire {

enum MessageType : uint8_t {
  kHandshakeInit = 0x01,
  kHandshakeResponse = 0x02,
  kCookieReply = 0x03,  // load-time DoS defence (docs/protocol.md)
  kData = 0x04,
};

inline constexpr uint8_t PROTOCOL_VERSION = 0x01;
inline constexpr char PROLOGUE[] = "zeqvpn/1";
inline constexpr char NOISE_PROTOCOL_NAME[] = "Noise_IKpsk2_25519_AESGCM_SHA256";

// Handshake payload: version(1) zid(16) zeqond(8) nonce(32).
inline constexpr size_t PAYLOAD_SIZE = 57;
inline constexpr size_t NONCE_SIZE = 32;
inline constexpr size_t PAYLOAD_ZID_OFFSET = 1;
inline constexpr size_t PAYLOAD_ZEQOND_OFFSET = 17;
inline constexpr size_t PAYLOAD_NONCE_OFFSET = 25;
inline constexpr size_t MAC1_SIZE = 16;

// Every message: type(1) zero(3), then the first 32-bit index: the sender's
// in handshakes, the receiver's in data messages.
inline constexpr size_t SENDER_INDEX_OFFSET = 4;
inline constexpr size_t DATA_RECEIVER_INDEX_OFFSET = 4;
// HandshakeResponse: the initiator's index follows the responder's.
inline constexpr size_t RESPONSE_RECEIVER_INDEX_OFFSET = 8;

// HandshakeInit: type(1) zero(3) sender_index(4) noise(153) mac1(16).
inline constexpr size_t INIT_HEADER_SIZE = 8;
inline constexpr size_t INIT_NOISE_SIZE = 32 + 48 + PAYLOAD_SIZE + 16;
inline constexpr size_t INIT_SIZE = INIT_HEADER_SIZE + INIT_NOISE_SIZE + MAC1_SIZE;

// HandshakeResponse: type(1) zero(3) sender(4) receiver(4) noise(105) mac1(16).
inline constexpr size_t RESPONSE_HEADER_SIZE = 12;
inline constexpr size_t RESPONSE_NOISE_SIZE = 32 + PAYLOAD_SIZE + 16;
inline constexpr size_t RESPONSE_SIZE = RESPONSE_HEADER_SIZE + RESPONSE_NOISE_SIZE + MAC1_SIZE;

// mac2: an optional 16 bytes after mac1 of either handshake message, keyed
// by a cookie the receiver handed out; required while the receiver is under
// load (docs/protocol.md, "Cookie reply and mac2").
inline constexpr size_t MAC2_SIZE = 16;
inline constexpr size_t INIT_WITH_MAC2_SIZE = INIT_SIZE + MAC2_SIZE;
inline constexpr size_t RESPONSE_WITH_MAC2_SIZE = RESPONSE_SIZE + MAC2_SIZE;

// Handshake extensions (docs/protocol.md, "Handshake extensions"): a
// handshake message whose header byte 1 is EXTENSIONS_FLAG carries, in bytes
// 2..3, the big-endian length of extension bytes that follow the 57-byte
// payload inside the Noise-encrypted part, so the message grows by that much.
// Header bytes 1..3 all zero is the PROTOCOL.md v1 message, unchanged.
inline constexpr size_t HEADER_FLAGS_OFFSET = 1;
inline constexpr size_t HEADER_EXTENSIONS_LENGTH_OFFSET = 2;
inline constexpr uint8_t EXTENSIONS_FLAG = 0x01;
inline constexpr size_t MAX_EXTENSIONS_SIZE = 1024;
// Extension entries: type(1) length(2) value.
inline constexpr size_t EXTENSION_HEADER_SIZE = 3;
enum ExtensionType : uint8_t {
  kExtensionCertificate = 0x01,  // the sender's mesh certificate (identity/certificate.hpp)
};
inline constexpr size_t MAX_INIT_SIZE = INIT_SIZE + MAX_EXTENSIONS_SIZE;
inline constexpr size_t MAX_RESPONSE_SIZE = RESPONSE_SIZE + MAX_EXTENSIONS_SIZE;
// The largest handshake message on the wire: an initiation with every
// extension byte and mac2, within IPv6's minimum MTU less IP and UDP headers.
inline constexpr size_t MAX_HANDSHAKE_SIZE = MAX_INIT_SIZE + MAC2_SIZE;
static_assert(MAX_HANDSHAKE_SIZE <= 1280 - 40 - 8);

// CookieReply: type(1) zero(3) receiver_index(4) nonce(12) tag(16)
// encrypted cookie(16). receiver_index is the sender_index of the handshake
// message it answers.
inline constexpr size_t COOKIE_SIZE = 16;
inline constexpr size_t COOKIE_RECEIVER_INDEX_OFFSET = 4;
inline constexpr size_t COOKIE_NONCE_OFFSET = 8;
inline constexpr size_t COOKIE_NONCE_SIZE = 12;
inline constexpr size_t COOKIE_TAG_OFFSET = COOKIE_NONCE_OFFSET + COOKIE_NONCE_SIZE;
inline constexpr size_t COOKIE_TAG_SIZE = 16;
inline constexpr size_t COOKIE_CIPHERTEXT_OFFSET = COOKIE_TAG_OFFSET + COOKIE_TAG_SIZE;
inline constexpr size_t COOKIE_REPLY_SIZE = COOKIE_CIPHERTEXT_OFFSET + COOKIE_SIZE;

// Data: type(1) zero(3) receiver_index(4) iv(12) tag(16) ciphertext(n).
inline constexpr size_t DATA_HEADER_SIZE = 8;
inline constexpr size_t DATA_IV_SIZE = 12;
inline constexpr size_t DATA_TAG_SIZE = 16;
inline constexpr size_t DATA_OVERHEAD = DATA_HEADER_SIZE + DATA_IV_SIZE + DATA_TAG_SIZE;
// The IV is be32(Zeqond) then be64(counter).
inline constexpr size_t DATA_COUNTER_OFFSET = DATA_HEADER_SIZE + 4;

// First plaintext byte of a data message (PROTOCOL.md 5).
inline constexpr uint8_t PLAINTEXT_COVER = 0x00;
inline constexpr uint8_t PLAINTEXT_CONTROL = 0x01;

// The largest UDP payload zeqvpn sends or accepts.
inline constexpr size_t MAX_MESSAGE_SIZE = 65535 - 8 - 40;

static_assert(INIT_SIZE == 177);
static_assert(RESPONSE_SIZE == 133);
static_assert(DATA_OVERHEAD == 36);
static_assert(COOKIE_REPLY_SIZE == 52);
static_assert(PAYLOAD_NONCE_OFFSET + NONCE_SIZE == PAYLOAD_SIZE);

}  // namespace zeq::wire
