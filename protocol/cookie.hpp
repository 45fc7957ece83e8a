// The load-time handshake defence of docs/protocol.md ("Cookie reply and
// mac2"), as byte layouts and pure computation. A receiver under load answers
// a handshake message that lacks a valid mac2 with a CookieReply instead of
// running Noise; the cookie is a MAC of the sender's address under a secret
// that rotates, so only a sender who can receive at its address can prove it
// with mac2. Who is under load, the rotation and rate limits live in mesh/.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "core/bytes.hpp"
#include "core/net_address.hpp"
#include "crypto/hash.hpp"
#include "crypto/secret_bytes.hpp"
#include "protocol/wire.hpp"

namespace zeq {

using Cookie = std::array<uint8_t, wire::COOKIE_SIZE>;

// SHA256("zeqvpn/cookie" || static_public): the key a CookieReply from the
// holder of static_public is sealed with (both sides know it).
Digest32 cookie_key_for(std::span<const uint8_t, 32> static_public);

// HMAC(secret, address(16) || port(2))[0:16]: IPv4 as its v4-mapped IPv6
// address, the port big-endian.
Cookie make_cookie(const Key32& secret, const UdpEndpoint& sender);

// The size of a handshake message without mac2, from its header (type and
// extension length): 0 for other types and for a header no sender writes
// (flags other than EXTENSIONS_FLAG, an extension length of 0 or over
// MAX_EXTENSIONS_SIZE, a length without the flag). And whether the message
// is that size with or without mac2.
size_t handshake_base_size(ByteSpan message);
enum class Mac2Presence : uint8_t { kAbsent, kPresent, kBadSize };
Mac2Presence mac2_presence(ByteSpan message);

// mac2 = HMAC(cookie, every byte before it, mac1 included)[0:16], written
// into the last 16 bytes of message; and its constant-time check.
void write_mac2(const Cookie& cookie, MutableByteSpan message);
bool verify_mac2(const Cookie& cookie, ByteSpan message);

// The 16 mac1 bytes of a handshake message without mac2.
ByteSpan mac1_of(ByteSpan message_without_mac2);

// Seals `cookie` into a CookieReply for the sender of a handshake message:
// receiver_index = that message's sender_index, AAD = its mac1. The nonce is
// the caller's (random). False only when the cipher fails.
[[nodiscard]] bool write_cookie_reply(const Digest32& own_cookie_key, uint32_t receiver_index, ByteSpan mac1,
                                      const Cookie& cookie,
                                      std::span<const uint8_t, wire::COOKIE_NONCE_SIZE> nonce,
                                      std::span<uint8_t, wire::COOKIE_REPLY_SIZE> out);
uint32_t cookie_reply_receiver(ByteSpan reply);
// Opens a CookieReply from the peer whose cookie key is given, against the
// mac1 of the last handshake message sent to it; nullopt when the size, the
// type or the tag is wrong.
std::optional<Cookie> open_cookie_reply(const Digest32& peer_cookie_key, ByteSpan mac1_sent, ByteSpan reply);

// The sender's side, one per peer (control thread): remembers the mac1 of
// the last handshake message sent to the peer, accepts a CookieReply only
// against it (once), and adds mac2 to handshake messages for COOKIE_USE_US
// after the reply arrived (the secret's lifetime less a latency margin).
class PeerCookie {
 public:
  explicit PeerCookie(std::span<const uint8_t, 32> peer_static_public);

  // Call with every handshake message sent to the peer (without mac2).
  void remember_sent(ByteSpan message_without_mac2);
  // True when the reply carried a cookie for our last message; it then
  // replaces any older cookie. A reply is good once.
  bool accept_reply(ByteSpan reply, int64_t now_us);
  // Writes mac2 into message[base_size .. base_size + 16) when a cookie is
  // fresh and returns the size to send (base_size or base_size + 16).
  // `message` must have room for mac2.
  size_t add_mac2(MutableByteSpan message, size_t base_size, int64_t now_us) const;
  bool has_fresh_cookie(int64_t now_us) const;

 private:
  Digest32 peer_cookie_key_{};
  std::array<uint8_t, wire::MAC1_SIZE> last_mac1_{};
  bool awaiting_reply_ = false;
  Cookie cookie_{};
  int64_t cookie_received_us_ = 0;
  bool has_cookie_ = false;
};

}  // namespace zeq
