// Every truncation and every single flipped bit of each message type must be
// rejected, never accepted and never crash.
#include <gtest/gtest.h>

#include "protocol/data_message.hpp"
#include "protocol/handshake.hpp"
#include "protocol/ip_packet.hpp"
#include "test_data.hpp"

namespace zeq {

using test::hex;
using test::hex_array;

class MessageParsing : public ::testing::Test {
 protected:
  void SetUp() override {
    v_ = test::load_json("zeqvpn-vectors.json");
    mesh_ = hex(v_["mesh_secret"]);
    z_ = v_["zeqond"].get<uint64_t>();
    init_.keypair = x25519_from_private(hex_array<32>(v_["initiator"]["static_private"]));
    init_.zid = v_["initiator"]["zid"];
    resp_.keypair = x25519_from_private(hex_array<32>(v_["responder"]["static_private"]));
    resp_.zid = v_["responder"]["zid"];
  }
  HandshakeRandomness rnd(const char* side) {
    HandshakeRandomness r;
    r.ephemeral_private.assign(hex_array<32>(v_[side]["ephemeral_private"]));
    r.nonce = hex_array<32>(v_[side]["nonce"]);
    r.sender_index = v_[side]["sender_index"].get<uint32_t>();
    return r;
  }
  std::unique_ptr<InitiatorHandshake> fresh_initiator() {
    std::array<uint8_t, wire::INIT_SIZE> m1{};
    return InitiatorHandshake::start(init_, PeerKey{resp_.zid, resp_.keypair.public_key}, mesh_, z_, rnd("initiator"), m1);
  }
  nlohmann::json v_;
  Bytes mesh_;
  uint64_t z_ = 0;
  LocalIdentity init_, resp_;
};

TEST_F(MessageParsing, HandshakeInitTruncationsAndBitFlips) {
  Bytes m1 = hex(v_["handshake_init"]);
  auto mac1_key = mac1_key_for(resp_.keypair.public_key);
  ReceivedInitiation ok;
  ASSERT_EQ(read_initiation(resp_, mac1_key, m1, ok), HandshakeReject::kNone);
  for (size_t len = 0; len < m1.size(); ++len) {
    ReceivedInitiation r;
    EXPECT_NE(read_initiation(resp_, mac1_key, ByteSpan(m1.data(), len), r), HandshakeReject::kNone) << len;
  }
  Bytes longer = m1;
  longer.push_back(0);
  ReceivedInitiation r0;
  EXPECT_EQ(read_initiation(resp_, mac1_key, longer, r0), HandshakeReject::kBadSize);
  for (size_t bit = 0; bit < m1.size() * 8; ++bit) {
    Bytes bad = m1;
    bad[bit / 8] ^= uint8_t(1 << (bit % 8));
    ReceivedInitiation r;
    EXPECT_NE(read_initiation(resp_, mac1_key, bad, r), HandshakeReject::kNone) << "bit " << bit;
  }
}

TEST_F(MessageParsing, HandshakeInitWithValidMac1ButBadNoiseIsRejected) {
  // An attacker who knows the responder's public key can forge mac1; Noise
  // must still refuse the tampered body.
  Bytes m1 = hex(v_["handshake_init"]);
  auto mac1_key = mac1_key_for(resp_.keypair.public_key);
  for (size_t i = wire::INIT_HEADER_SIZE + 32; i < wire::INIT_SIZE - wire::MAC1_SIZE; i += 7) {
    Bytes bad = m1;
    bad[i] ^= 0x40;
    write_mac1(mac1_key, bad);
    ReceivedInitiation r;
    EXPECT_EQ(read_initiation(resp_, mac1_key, bad, r), HandshakeReject::kBadNoise) << i;
  }
}

TEST_F(MessageParsing, HandshakeResponseTruncationsAndBitFlips) {
  Bytes m2 = hex(v_["handshake_response"]);
  {
    SessionKeys keys;
    ASSERT_EQ(fresh_initiator()->finish(m2, z_, mesh_, keys), HandshakeReject::kNone);
  }
  for (size_t len = 0; len < m2.size(); ++len) {
    SessionKeys keys;
    EXPECT_NE(fresh_initiator()->finish(ByteSpan(m2.data(), len), z_, mesh_, keys), HandshakeReject::kNone) << len;
  }
  for (size_t bit = 0; bit < m2.size() * 8; ++bit) {
    Bytes bad = m2;
    bad[bit / 8] ^= uint8_t(1 << (bit % 8));
    SessionKeys keys;
    EXPECT_NE(fresh_initiator()->finish(bad, z_, mesh_, keys), HandshakeReject::kNone) << "bit " << bit;
  }
}

TEST_F(MessageParsing, DataMessageTruncationsAndBitFlips) {
  Bytes msg = hex(v_["data_i2r_counter0"]["message"]);
  auto key = hex_array<32>(v_["key_i2r"]);
  auto opens = [&](Bytes m) {
    AeadContext ctx = std::move(AeadContext::create(AeadContext::Direction::kOpen, key).value());
    DataHeader h;
    if (!parse_data_header(m, h)) return false;
    if (h.receiver_index != v_["responder"]["sender_index"].get<uint32_t>()) return false;
    return open_data_message(ctx, m.data(), m.size());
  };
  ASSERT_TRUE(opens(msg));
  for (size_t len = 0; len < msg.size(); ++len) EXPECT_FALSE(opens(Bytes(msg.begin(), msg.begin() + len))) << len;
  for (size_t bit = 0; bit < msg.size() * 8; ++bit) {
    Bytes bad = msg;
    bad[bit / 8] ^= uint8_t(1 << (bit % 8));
    EXPECT_FALSE(opens(bad)) << "bit " << bit;
  }
}

TEST(IpPacket, LengthAndAddresses) {
  Bytes v4 = hex("4500003a00000000400165310ac800010ac800020800c055000700017a6571706565722d70726f62652d30313233343536373839616263646566000000000000");
  EXPECT_EQ(ip_packet_length(v4), 58u);
  EXPECT_EQ(ip_version(v4), 4);
  EXPECT_EQ(ip_source(v4.data())[3], 1);
  EXPECT_EQ(ip_destination(v4.data())[3], 2);
  for (size_t len = 0; len < 58; ++len) EXPECT_EQ(ip_packet_length(ByteSpan(v4.data(), len)), 0u) << len;
  Bytes bad_ihl = v4;
  bad_ihl[0] = 0x44;
  EXPECT_EQ(ip_packet_length(bad_ihl), 0u);

  Bytes v6(48, 0);
  v6[0] = 0x60;
  v6[5] = 8;  // payload length 8
  v6[23] = 1;
  v6[39] = 2;
  EXPECT_EQ(ip_packet_length(v6), 48u);
  EXPECT_EQ(ip_source(v6.data())[15], 1);
  EXPECT_EQ(ip_destination(v6.data())[15], 2);
  v6[5] = 9;
  EXPECT_EQ(ip_packet_length(v6), 0u);
  EXPECT_EQ(ip_packet_length(Bytes{0x00, 1, 2}), 0u);
}

TEST(Padding, MultipleOf16CappedAtLimit) {
  EXPECT_EQ(padded_length(0, 1416), 0u);
  EXPECT_EQ(padded_length(58, 1416), 64u);
  EXPECT_EQ(padded_length(64, 1416), 64u);
  EXPECT_EQ(padded_length(1410, 1416), 1416u);
  EXPECT_EQ(padded_length(1416, 1416), 1416u);
  EXPECT_EQ(padded_length(1500, 1416), 1500u);
}

}  // namespace zeq
