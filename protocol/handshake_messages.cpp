#include "protocol/handshake_messages.hpp"

#include <algorithm>

#include "crypto/secret_bytes.hpp"
#include "identity/zid.hpp"

namespace zeq {

std::array<uint8_t, wire::PAYLOAD_SIZE> encode_payload(const HandshakePayload& p) {
  std::array<uint8_t, wire::PAYLOAD_SIZE> out{};
  out[0] = p.version;
  std::copy_n(p.zid.begin(), std::min<size_t>(p.zid.size(), ZID_LENGTH), out.begin() + wire::PAYLOAD_ZID_OFFSET);
  store_be64(out.data() + wire::PAYLOAD_ZEQOND_OFFSET, p.zeqond);
  std::copy(p.nonce.begin(), p.nonce.end(), out.begin() + wire::PAYLOAD_NONCE_OFFSET);
  return out;
}

std::optional<HandshakePayload> decode_payload(ByteSpan bytes) {
  if (bytes.size() != wire::PAYLOAD_SIZE || bytes[0] != wire::PROTOCOL_VERSION) return std::nullopt;
  HandshakePayload p;
  p.version = bytes[0];
  p.zid.assign(reinterpret_cast<const char*>(bytes.data() + wire::PAYLOAD_ZID_OFFSET), ZID_LENGTH);
  if (!is_valid_zid(p.zid)) return std::nullopt;
  p.zeqond = load_be64(bytes.data() + wire::PAYLOAD_ZEQOND_OFFSET);
  std::copy_n(bytes.begin() + wire::PAYLOAD_NONCE_OFFSET, wire::NONCE_SIZE, p.nonce.begin());
  return p;
}

Digest32 mac1_key_for(std::span<const uint8_t, 32> receiver_static_public) {
  return sha256({as_bytes("zeqvpn/mac1"), receiver_static_public});
}

void write_mac1(const Digest32& mac1_key, MutableByteSpan message) {
  size_t body = message.size() - wire::MAC1_SIZE;
  Digest32 mac = hmac_sha256(mac1_key, message.first(body));
  std::copy_n(mac.begin(), wire::MAC1_SIZE, message.begin() + body);
}

bool verify_mac1(const Digest32& mac1_key, ByteSpan message) {
  if (message.size() < wire::MAC1_SIZE) return false;
  size_t body = message.size() - wire::MAC1_SIZE;
  Digest32 mac = hmac_sha256(mac1_key, message.first(body));
  return constant_time_equal(ByteSpan(mac.data(), wire::MAC1_SIZE), message.subspan(body, wire::MAC1_SIZE));
}

}  // namespace zeq
