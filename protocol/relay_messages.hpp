// Relay messages (docs/protocol.md, "Relays"): how two members reach each
// other through a relay that sees only ciphertext.
//
// On the wire, type 0x10 RelayData carries one whole zeqvpn message of the
// two ends (a handshake message, cookie reply or data message, sealed under
// keys the relay never has) over one hop: client -> relay or relay -> client.
// The hop authenticates it with its own session key (GMAC over the header
// and the carried message, nothing encrypted a second time), so the relay
// forwards only what a member it has a session with sent, and a client
// accepts only what its relay sent:
//
//   type 0x10 (1) | channel be24 (3) | receiver_index (4) | counter be64 (8)
//   | tag (16) | carried message (n >= 1)
//
// The nonce is be32(0) || be64(counter), the counter taken from the hop
// key's own data-message counter (one sequence for both kinds), so no nonce
// repeats under a key and the hop's replay window covers both.
//
// Setting pairs up and tearing them down, pings and usage receipts are
// in-tunnel control messages (control_message.hpp) between a client and its
// relay, types 0x10..0x19. Pure code: encoders, and parsers that return
// nullopt for anything but the one canonical form (bytes after a body must
// be zero: the data message's padding).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/bytes.hpp"
#include "core/modes.hpp"
#include "crypto/aead.hpp"
#include "crypto/ed25519.hpp"

namespace zeq {

inline constexpr uint8_t RELAY_DATA_TYPE = 0x10;
inline constexpr size_t RELAY_HEADER_SIZE = 16;  // type, channel, receiver_index, counter
inline constexpr size_t RELAY_OVERHEAD = RELAY_HEADER_SIZE + AEAD_TAG_SIZE;

// The path MTU to a peer through a relay, for an interface MTU `mtu`: a
// relayed message is RELAY_OVERHEAD longer, so an MTU that fits a 1500-byte
// underlay only without it (up to the default 1416) stops at 1384, which
// fits it with it; smaller ones are kept; larger ones (a jumbo underlay)
// lose RELAY_OVERHEAD.
inline constexpr size_t RELAYED_MTU_FOR_1500 = 1500 - 40 - 8 - 36 - RELAY_OVERHEAD;  // IPv6 + UDP + zeqvpn data
inline constexpr size_t relayed_path_mtu(size_t mtu) {
  return mtu <= RELAYED_MTU_FOR_1500 ? mtu : (mtu - RELAY_OVERHEAD > RELAYED_MTU_FOR_1500 ? mtu - RELAY_OVERHEAD
                                                                                            : RELAYED_MTU_FOR_1500);
}
static_assert(relayed_path_mtu(1416) == 1384 && relayed_path_mtu(1384) == 1384 && relayed_path_mtu(1280) == 1280 &&
              relayed_path_mtu(9000) == 8968);
inline constexpr uint32_t RELAY_CHANNEL_MAX = 0xFFFFFF;  // channels are 1..2^24-1

// ---- RelayData (wire type 0x10) ----

struct RelayDataHeader {
  uint32_t channel = 0;
  uint32_t receiver_index = 0;
  uint64_t counter = 0;
};

// Writes header and tag into msg[0..RELAY_OVERHEAD) over the carried
// message that already sits at msg + RELAY_OVERHEAD (carried_len bytes).
// False when the cipher failed (msg must not be sent).
[[nodiscard]] bool seal_relay_data(AeadContext& hop_key, uint32_t channel, uint32_t receiver_index, uint64_t counter,
                                   uint8_t* msg, size_t carried_len);
// False unless msg has the type, a channel in 1..RELAY_CHANNEL_MAX and
// carries at least one byte.
[[nodiscard]] bool parse_relay_data_header(ByteSpan msg, RelayDataHeader& out);
// Checks the hop's tag (msg as parsed above).
[[nodiscard]] bool verify_relay_data(AeadContext& hop_key, const uint8_t* msg, size_t len);

// ---- in-tunnel control messages (plaintext 0x01 || type || body) ----

inline constexpr uint8_t CONTROL_RELAY_OPEN = 0x10;      // client -> relay
inline constexpr uint8_t CONTROL_RELAY_OFFER = 0x11;     // relay -> target
inline constexpr uint8_t CONTROL_RELAY_ACCEPT = 0x12;    // target -> relay
inline constexpr uint8_t CONTROL_RELAY_DECLINE = 0x13;   // target -> relay
inline constexpr uint8_t CONTROL_RELAY_OPENED = 0x14;    // relay -> requester
inline constexpr uint8_t CONTROL_RELAY_REFUSED = 0x15;   // relay -> requester
inline constexpr uint8_t CONTROL_RELAY_CLOSE = 0x16;     // either way
inline constexpr uint8_t CONTROL_RELAY_PING = 0x17;      // client -> relay
inline constexpr uint8_t CONTROL_RELAY_PONG = 0x18;      // relay -> client
inline constexpr uint8_t CONTROL_RELAY_RECEIPT = 0x19;   // requester -> relay
inline bool is_relay_control(uint8_t type) { return type >= CONTROL_RELAY_OPEN && type <= CONTROL_RELAY_RECEIPT; }

// Why a pair is refused, declined or closed (one byte on the wire).
enum class RelayReason : uint8_t {
  kNone = 0,
  kTargetUnknown = 1,      // not a member, or no session with the relay
  kDeclined = 2,           // the target said no (it does not know the requester)
  kPairLimit = 3,          // the requester has relay.limits.pairs_per_client pairs
  kNotRelay = 4,           // the receiver is not a relay
  kClosed = 5,             // an end closed it
  kEndGone = 6,            // the other end's session with the relay ended
  kTimeout = 7,            // the target did not answer the offer
  kSelf = 8,               // the requester asked for itself
  kBusy = 9,               // the relay holds as many pairs as it will
};
inline constexpr uint8_t RELAY_REASON_MAX = 9;
const char* relay_reason_name(RelayReason r);

struct RelayOpen { uint32_t request_id = 0; std::string target_zid; };
struct RelayOffer { uint32_t channel = 0; std::string requester_zid; };
struct RelayAnswer { uint32_t channel = 0; RelayReason reason = RelayReason::kNone; };  // accept: kNone
struct RelayOpened { uint32_t request_id = 0; uint32_t channel = 0; PricingUnit unit = PricingUnit::kGb; uint64_t price = 0; };
struct RelayRefused { uint32_t request_id = 0; RelayReason reason = RelayReason::kNone; };
struct RelayClose { uint32_t channel = 0; RelayReason reason = RelayReason::kClosed; };
struct RelayPing { uint64_t nonce = 0; };
// The pong carries the relay's offer, so a client learns the price of a
// relay named in its YAML as well as of one from the directory.
struct RelayPong {
  uint64_t nonce = 0;
  PricingUnit unit = PricingUnit::kGb;
  uint64_t price = 0;
  std::string region;  // [A-Za-z0-9._-]{0,32}
};
inline constexpr size_t RELAY_REGION_MAX = 32;

Bytes encode_relay_open(const RelayOpen& m);
Bytes encode_relay_offer(const RelayOffer& m);
Bytes encode_relay_accept(uint32_t channel);
Bytes encode_relay_decline(uint32_t channel, RelayReason reason);
Bytes encode_relay_opened(const RelayOpened& m);
Bytes encode_relay_refused(const RelayRefused& m);
Bytes encode_relay_close(const RelayClose& m);
Bytes encode_relay_ping(const RelayPing& m);
Bytes encode_relay_pong(const RelayPong& m);

std::optional<RelayOpen> parse_relay_open(ByteSpan plaintext);
std::optional<RelayOffer> parse_relay_offer(ByteSpan plaintext);
std::optional<RelayAnswer> parse_relay_answer(ByteSpan plaintext);  // accept or decline
std::optional<RelayOpened> parse_relay_opened(ByteSpan plaintext);
std::optional<RelayRefused> parse_relay_refused(ByteSpan plaintext);
std::optional<RelayClose> parse_relay_close(ByteSpan plaintext);
std::optional<RelayPing> parse_relay_ping(ByteSpan plaintext);
std::optional<RelayPong> parse_relay_pong(ByteSpan plaintext);
bool valid_region(std::string_view region);

// ---- usage receipts ----
// What the requester of a pair acknowledges having had relayed, signed with
// its node signing key (identity/certificate.hpp node_signing_keypair), so
// the relay can show anyone holding the requester's certificate what it
// charged. 193 bytes:
//   magic "ZQU1" (4) | relay ZID (16) | requester ZID (16) | target ZID (16)
//   | channel be32 (4) | opened_z (8) | zeqond (8) | up (8) | down (8)
//   | unit (1: 0 gb, 1 zeqond) | price (8) | signing_public (32)
//   | signature (64) over "zeqvpn/receipt/v1" || every byte before it
struct UsageReceipt {
  std::string relay_zid, requester_zid, target_zid;
  uint32_t channel = 0;
  uint64_t opened_z = 0, zeqond = 0;
  uint64_t up = 0, down = 0;
  PricingUnit unit = PricingUnit::kGb;
  uint64_t price = 0;
  Ed25519PublicKey signing_public{};
};
inline constexpr size_t USAGE_RECEIPT_SIZE = 4 + 16 * 3 + 4 + 8 * 4 + 1 + 8 + 32 + 64;
Bytes sign_usage_receipt(const UsageReceipt& r, const Ed25519Keypair& key);
// Decodes; nullopt when malformed or the signature does not verify against
// the signing_public it carries (the caller checks that key is the
// requester's).
std::optional<UsageReceipt> open_usage_receipt(ByteSpan receipt);
// The control message carrying a signed receipt, and its reader.
Bytes encode_relay_receipt(ByteSpan signed_receipt);
std::optional<ByteSpan> parse_relay_receipt(ByteSpan plaintext);

}  // namespace zeq
