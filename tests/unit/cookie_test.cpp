// Cookie replies and mac2 (docs/protocol.md "Cookie reply and mac2"): the
// byte layout against vectors written by the Python implementation
// (tests/integration/zeqwire.py), and what a forged or misdirected reply
// does.
#include <gtest/gtest.h>

#include "core/constants.hpp"
#include "protocol/cookie.hpp"
#include "test_data.hpp"

namespace zeq {
namespace {

using test::hex;
using test::hex_array;

class CookieVectors : public ::testing::Test {
 protected:
  void SetUp() override { v_ = test::load_json("cookie-vectors.json"); }
  nlohmann::json v_;
};

TEST_F(CookieVectors, CookieIsTheMacOfTheSendersAddressAndPort) {
  Key32 secret(hex(v_["cookie_secret"]));
  UdpEndpoint sender = *parse_udp_endpoint(v_["sender"].get<std::string>());
  Cookie cookie = make_cookie(secret, sender);
  EXPECT_EQ(to_hex(cookie), v_["cookie"].get<std::string>());
  UdpEndpoint other_port = *parse_udp_endpoint(v_["sender_other_port"].get<std::string>());
  EXPECT_NE(make_cookie(secret, other_port), cookie);
}

TEST_F(CookieVectors, Mac2CoversTheMessageAndMac1) {
  Bytes with_mac2 = hex(v_["initiation_with_mac2"]);
  ASSERT_EQ(with_mac2.size(), wire::INIT_WITH_MAC2_SIZE);
  Cookie cookie = hex_array<16>(v_["cookie"]);
  EXPECT_TRUE(verify_mac2(cookie, with_mac2));
  Bytes rewritten = with_mac2;
  std::fill(rewritten.end() - 16, rewritten.end(), 0);
  write_mac2(cookie, rewritten);
  EXPECT_EQ(rewritten, with_mac2);
  with_mac2[wire::INIT_SIZE - 1] ^= 1;  // mac1 is under mac2
  EXPECT_FALSE(verify_mac2(cookie, with_mac2));
}

TEST_F(CookieVectors, ReplyIsByteExactAndOpensOnlyAgainstItsMac1) {
  auto responder_public = hex_array<32>(v_["responder_static_public"]);
  Bytes initiation = hex(v_["initiation"]);
  ASSERT_EQ(initiation.size(), wire::INIT_SIZE);
  Cookie cookie = hex_array<16>(v_["cookie"]);
  auto nonce = hex_array<wire::COOKIE_NONCE_SIZE>(v_["reply_nonce"]);
  std::array<uint8_t, wire::COOKIE_REPLY_SIZE> reply{};
  const uint32_t sender_index = load_be32(initiation.data() + wire::SENDER_INDEX_OFFSET);
  ASSERT_TRUE(write_cookie_reply(cookie_key_for(responder_public), sender_index, mac1_of(initiation), cookie, nonce, reply));
  EXPECT_EQ(to_hex(reply), v_["cookie_reply"].get<std::string>());
  EXPECT_EQ(cookie_reply_receiver(reply), sender_index);

  Digest32 key = cookie_key_for(responder_public);
  EXPECT_EQ(open_cookie_reply(key, mac1_of(initiation), reply), cookie);
  Bytes other_mac1(16, 0x11);
  EXPECT_FALSE(open_cookie_reply(key, other_mac1, reply));
  auto tampered = reply;
  tampered[wire::COOKIE_CIPHERTEXT_OFFSET] ^= 0x80;
  EXPECT_FALSE(open_cookie_reply(key, mac1_of(initiation), tampered));
  EXPECT_FALSE(open_cookie_reply(key, mac1_of(initiation), ByteSpan(reply).first(wire::COOKIE_REPLY_SIZE - 1)));
}

// A message of `size` bytes with the given type and header bytes 1..3.
Bytes message_of(uint8_t type, size_t size, uint8_t flags = 0, uint16_t extensions = 0) {
  Bytes m(size, 0);
  m[0] = type;
  m[wire::HEADER_FLAGS_OFFSET] = flags;
  store_be16(m.data() + wire::HEADER_EXTENSIONS_LENGTH_OFFSET, extensions);
  return m;
}

TEST(Mac2Presence, OnlyTheTwoSizesOfEachHandshakeMessage) {
  EXPECT_EQ(mac2_presence(message_of(wire::kHandshakeInit, wire::INIT_SIZE)), Mac2Presence::kAbsent);
  EXPECT_EQ(mac2_presence(message_of(wire::kHandshakeInit, wire::INIT_WITH_MAC2_SIZE)), Mac2Presence::kPresent);
  EXPECT_EQ(mac2_presence(message_of(wire::kHandshakeInit, wire::INIT_SIZE + 1)), Mac2Presence::kBadSize);
  EXPECT_EQ(mac2_presence(message_of(wire::kHandshakeResponse, wire::RESPONSE_SIZE)), Mac2Presence::kAbsent);
  EXPECT_EQ(mac2_presence(message_of(wire::kHandshakeResponse, wire::RESPONSE_WITH_MAC2_SIZE)), Mac2Presence::kPresent);
  EXPECT_EQ(mac2_presence(message_of(wire::kHandshakeResponse, wire::INIT_SIZE)), Mac2Presence::kBadSize);
  EXPECT_EQ(mac2_presence(message_of(wire::kData, wire::INIT_SIZE)), Mac2Presence::kBadSize);
  EXPECT_EQ(mac2_presence(ByteSpan(message_of(wire::kHandshakeInit, 8)).first(3)), Mac2Presence::kBadSize);
}

// The extension length in the header sets the size (docs/protocol.md,
// "Handshake extensions"); any other header is refused before a MAC.
TEST(Mac2Presence, ExtensionLengthSetsTheSize) {
  const uint8_t F = wire::EXTENSIONS_FLAG;
  EXPECT_EQ(mac2_presence(message_of(wire::kHandshakeInit, wire::INIT_SIZE + 300, F, 300)), Mac2Presence::kAbsent);
  EXPECT_EQ(mac2_presence(message_of(wire::kHandshakeInit, wire::INIT_SIZE + 316, F, 300)), Mac2Presence::kPresent);
  EXPECT_EQ(mac2_presence(message_of(wire::kHandshakeResponse, wire::RESPONSE_SIZE + 7, F, 7)), Mac2Presence::kAbsent);
  EXPECT_EQ(mac2_presence(message_of(wire::kHandshakeInit, wire::INIT_SIZE + 301, F, 300)), Mac2Presence::kBadSize);
  EXPECT_EQ(mac2_presence(message_of(wire::kHandshakeInit, wire::INIT_SIZE, F, 0)), Mac2Presence::kBadSize);
  EXPECT_EQ(mac2_presence(message_of(wire::kHandshakeInit, wire::INIT_SIZE + 300, 0, 300)), Mac2Presence::kBadSize);
  EXPECT_EQ(mac2_presence(message_of(wire::kHandshakeInit, wire::INIT_SIZE + 300, 0x02, 300)), Mac2Presence::kBadSize);
  const size_t too_long = wire::MAX_EXTENSIONS_SIZE + 1;
  EXPECT_EQ(mac2_presence(message_of(wire::kHandshakeInit, wire::INIT_SIZE + too_long, F, uint16_t(too_long))),
            Mac2Presence::kBadSize);
  EXPECT_EQ(handshake_base_size(message_of(wire::kHandshakeInit, 1200, F, 1000)), wire::INIT_SIZE + 1000);
}

// The sender's side: a reply is taken once and only for the last message
// sent; the cookie is used for the secret's lifetime less a margin.
TEST(PeerCookie, TakesOneReplyForTheLastMessageAndAgesOut) {
  std::array<uint8_t, 32> responder_public{};
  responder_public.fill(7);
  PeerCookie jar(responder_public);
  Bytes first(wire::INIT_SIZE, 0x01), second(wire::INIT_SIZE, 0x02);
  jar.remember_sent(first);
  jar.remember_sent(second);
  Key32 secret(Bytes(32, 9));
  Cookie cookie = make_cookie(secret, *parse_udp_endpoint("192.0.2.1:1"));
  std::array<uint8_t, wire::COOKIE_NONCE_SIZE> nonce{};
  std::array<uint8_t, wire::COOKIE_REPLY_SIZE> for_first{}, for_second{};
  Digest32 key = cookie_key_for(responder_public);
  ASSERT_TRUE(write_cookie_reply(key, 1, mac1_of(first), cookie, nonce, for_first));
  ASSERT_TRUE(write_cookie_reply(key, 1, mac1_of(second), cookie, nonce, for_second));
  EXPECT_FALSE(jar.accept_reply(for_first, 0));  // not our last mac1
  EXPECT_TRUE(jar.accept_reply(for_second, 0));
  EXPECT_FALSE(jar.accept_reply(for_second, 0));  // good once

  Bytes buffer(wire::INIT_WITH_MAC2_SIZE, 0x03);
  EXPECT_EQ(jar.add_mac2(buffer, wire::INIT_SIZE, COOKIE_USE_US - 1), wire::INIT_WITH_MAC2_SIZE);
  EXPECT_TRUE(verify_mac2(cookie, buffer));
  EXPECT_EQ(jar.add_mac2(buffer, wire::INIT_SIZE, COOKIE_USE_US), wire::INIT_SIZE);
}

// The cookie was made up to a trip across the network before the reply
// arrived, so the sender stops using it a margin before the receiver's
// secret could rotate under it.
TEST(PeerCookie, CookieIsUsedForTheSecretsLifetimeLessAMargin) {
  static_assert(COOKIE_USE_US == 110'000'000);
  std::array<uint8_t, 32> responder_public{};
  responder_public.fill(7);
  PeerCookie jar(responder_public);
  Bytes sent(wire::INIT_SIZE, 0x01);
  jar.remember_sent(sent);
  Cookie cookie = make_cookie(Key32(Bytes(32, 9)), *parse_udp_endpoint("192.0.2.1:1"));
  std::array<uint8_t, wire::COOKIE_NONCE_SIZE> nonce{};
  std::array<uint8_t, wire::COOKIE_REPLY_SIZE> reply{};
  ASSERT_TRUE(write_cookie_reply(cookie_key_for(responder_public), 1, mac1_of(sent), cookie, nonce, reply));
  const int64_t arrived = 5'000'000;
  ASSERT_TRUE(jar.accept_reply(reply, arrived));
  EXPECT_TRUE(jar.has_fresh_cookie(arrived + COOKIE_USE_US - 1));
  EXPECT_FALSE(jar.has_fresh_cookie(arrived + COOKIE_USE_US));
  EXPECT_FALSE(jar.has_fresh_cookie(arrived + COOKIE_SECRET_LIFETIME_US - 1));
}

}  // namespace
}  // namespace zeq
