#include "protocol/cookie.hpp"

#include <algorithm>
#include <cstring>

#include "core/constants.hpp"
#include "crypto/aead.hpp"

namespace zeq {

Digest32 cookie_key_for(std::span<const uint8_t, 32> static_public) {
  return sha256({as_bytes("zeqvpn/cookie"), static_public});
}

Cookie make_cookie(const Key32& secret, const UdpEndpoint& sender) {
  uint8_t port[2];
  std::memcpy(port, &sender.sa.sin6_port, 2);  // already big-endian
  Digest32 mac{};
  hmac_sha256(secret.span(), {ByteSpan(sender.sa.sin6_addr.s6_addr, 16), ByteSpan(port, 2)}, mac);
  Cookie cookie{};
  std::copy_n(mac.begin(), cookie.size(), cookie.begin());
  return cookie;
}

size_t handshake_base_size(ByteSpan message) {
  if (message.size() < wire::INIT_HEADER_SIZE) return 0;
  size_t base = 0;
  switch (message[0]) {
    case wire::kHandshakeInit: base = wire::INIT_SIZE; break;
    case wire::kHandshakeResponse: base = wire::RESPONSE_SIZE; break;
    default: return 0;
  }
  const uint8_t flags = message[wire::HEADER_FLAGS_OFFSET];
  const size_t extensions = load_be16(message.data() + wire::HEADER_EXTENSIONS_LENGTH_OFFSET);
  if (flags == 0) return extensions == 0 ? base : 0;
  if (flags != wire::EXTENSIONS_FLAG || extensions == 0 || extensions > wire::MAX_EXTENSIONS_SIZE) return 0;
  return base + extensions;
}

Mac2Presence mac2_presence(ByteSpan message) {
  const size_t base = handshake_base_size(message);
  if (base == 0) return Mac2Presence::kBadSize;
  if (message.size() == base) return Mac2Presence::kAbsent;
  if (message.size() == base + wire::MAC2_SIZE) return Mac2Presence::kPresent;
  return Mac2Presence::kBadSize;
}

void write_mac2(const Cookie& cookie, MutableByteSpan message) {
  const size_t body = message.size() - wire::MAC2_SIZE;
  Digest32 mac = hmac_sha256(cookie, message.first(body));
  std::copy_n(mac.begin(), wire::MAC2_SIZE, message.begin() + long(body));
}

bool verify_mac2(const Cookie& cookie, ByteSpan message) {
  if (message.size() < wire::MAC2_SIZE) return false;
  const size_t body = message.size() - wire::MAC2_SIZE;
  Digest32 mac = hmac_sha256(cookie, message.first(body));
  return constant_time_equal(ByteSpan(mac.data(), wire::MAC2_SIZE), message.subspan(body, wire::MAC2_SIZE));
}

ByteSpan mac1_of(ByteSpan message_without_mac2) {
  return message_without_mac2.last(wire::MAC1_SIZE);
}

bool write_cookie_reply(const Digest32& own_cookie_key, uint32_t receiver_index, ByteSpan mac1, const Cookie& cookie,
                        std::span<const uint8_t, wire::COOKIE_NONCE_SIZE> nonce,
                        std::span<uint8_t, wire::COOKIE_REPLY_SIZE> out) {
  std::fill(out.begin(), out.end(), 0);
  out[0] = wire::kCookieReply;
  store_be32(out.data() + wire::COOKIE_RECEIVER_INDEX_OFFSET, receiver_index);
  std::copy(nonce.begin(), nonce.end(), out.begin() + wire::COOKIE_NONCE_OFFSET);
  // OpenSSL writes ciphertext || tag; the wire wants tag || ciphertext (as
  // in data messages).
  std::array<uint8_t, wire::COOKIE_SIZE + wire::COOKIE_TAG_SIZE> sealed{};
  if (!aes256gcm_seal(own_cookie_key, nonce, mac1, cookie, sealed.data())) return false;
  std::copy_n(sealed.begin() + wire::COOKIE_SIZE, wire::COOKIE_TAG_SIZE, out.begin() + wire::COOKIE_TAG_OFFSET);
  std::copy_n(sealed.begin(), wire::COOKIE_SIZE, out.begin() + wire::COOKIE_CIPHERTEXT_OFFSET);
  return true;
}

uint32_t cookie_reply_receiver(ByteSpan reply) {
  return load_be32(reply.data() + wire::COOKIE_RECEIVER_INDEX_OFFSET);
}

std::optional<Cookie> open_cookie_reply(const Digest32& peer_cookie_key, ByteSpan mac1_sent, ByteSpan reply) {
  if (reply.size() != wire::COOKIE_REPLY_SIZE || reply[0] != wire::kCookieReply) return std::nullopt;
  std::array<uint8_t, wire::COOKIE_SIZE + wire::COOKIE_TAG_SIZE> sealed{};
  std::copy_n(reply.begin() + wire::COOKIE_CIPHERTEXT_OFFSET, wire::COOKIE_SIZE, sealed.begin());
  std::copy_n(reply.begin() + wire::COOKIE_TAG_OFFSET, wire::COOKIE_TAG_SIZE, sealed.begin() + wire::COOKIE_SIZE);
  Cookie cookie{};
  auto nonce = reply.subspan<wire::COOKIE_NONCE_OFFSET, wire::COOKIE_NONCE_SIZE>();
  if (!aes256gcm_open(peer_cookie_key, nonce, mac1_sent, sealed, cookie.data())) return std::nullopt;
  return cookie;
}

PeerCookie::PeerCookie(std::span<const uint8_t, 32> peer_static_public)
    : peer_cookie_key_(cookie_key_for(peer_static_public)) {}

void PeerCookie::remember_sent(ByteSpan message_without_mac2) {
  ByteSpan mac1 = mac1_of(message_without_mac2);
  std::copy(mac1.begin(), mac1.end(), last_mac1_.begin());
  awaiting_reply_ = true;
}

bool PeerCookie::accept_reply(ByteSpan reply, int64_t now_us) {
  if (!awaiting_reply_) return false;
  auto cookie = open_cookie_reply(peer_cookie_key_, last_mac1_, reply);
  if (!cookie) return false;
  awaiting_reply_ = false;
  cookie_ = *cookie;
  cookie_received_us_ = now_us;
  has_cookie_ = true;
  return true;
}

bool PeerCookie::has_fresh_cookie(int64_t now_us) const {
  return has_cookie_ && now_us - cookie_received_us_ < COOKIE_USE_US;
}

size_t PeerCookie::add_mac2(MutableByteSpan message, size_t base_size, int64_t now_us) const {
  if (!has_fresh_cookie(now_us)) return base_size;
  write_mac2(cookie_, message.first(base_size + wire::MAC2_SIZE));
  return base_size + wire::MAC2_SIZE;
}

}  // namespace zeq
