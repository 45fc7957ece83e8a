// Reproduces every byte of shared/testdata/zeqvpn-vectors.json: psk, K_mesh,
// both handshake messages, both data keys, a data message and a keepalive.
#include <gtest/gtest.h>

#include "core/constants.hpp"
#include "identity/zid.hpp"
#include "protocol/data_message.hpp"
#include "protocol/handshake.hpp"
#include "test_data.hpp"

namespace zeq {

using test::hex;
using test::hex_array;

class ZeqvpnVectors : public ::testing::Test {
 protected:
  void SetUp() override {
    v_ = test::load_json("zeqvpn-vectors.json");
    mesh_ = hex(v_["mesh_secret"]);
    now_ = v_["unix_time_us"].get<int64_t>();
    init_id_.keypair = x25519_from_private(hex_array<32>(v_["initiator"]["static_private"]));
    init_id_.zid = v_["initiator"]["zid"];
    resp_id_.keypair = x25519_from_private(hex_array<32>(v_["responder"]["static_private"]));
    resp_id_.zid = v_["responder"]["zid"];
  }
  HandshakeRandomness rnd(const char* side) {
    HandshakeRandomness r;
    r.ephemeral_private.assign(hex_array<32>(v_[side]["ephemeral_private"]));
    r.nonce = hex_array<32>(v_[side]["nonce"]);
    r.sender_index = v_[side]["sender_index"].get<uint32_t>();
    return r;
  }
  nlohmann::json v_;
  Bytes mesh_;
  int64_t now_ = 0;
  LocalIdentity init_id_, resp_id_;
};

TEST_F(ZeqvpnVectors, IdentitiesAndClock) {
  EXPECT_EQ(to_hex(init_id_.keypair.public_key), std::string(v_["initiator"]["static_public"]));
  EXPECT_EQ(to_hex(resp_id_.keypair.public_key), std::string(v_["responder"]["static_public"]));
  EXPECT_EQ(zid_from_public_key(init_id_.keypair.public_key), init_id_.zid);
  EXPECT_EQ(zid_from_public_key(resp_id_.keypair.public_key), resp_id_.zid);
  EXPECT_EQ(zeqond_of(now_), v_["zeqond"].get<uint64_t>());
}

TEST_F(ZeqvpnVectors, PskAndMeshKey) {
  EXPECT_EQ(to_hex(pair_psk(mesh_, init_id_.zid, resp_id_.zid).span()), std::string(v_["psk"]));
  Key32 k = mesh_key(mesh_, init_id_.zid, resp_id_.zid, hex(v_["initiator"]["nonce"]), hex(v_["responder"]["nonce"]),
                     v_["zeqond"].get<uint64_t>());
  EXPECT_EQ(to_hex(k.span()), std::string(v_["k_mesh"]));
}

TEST_F(ZeqvpnVectors, FullExchangeByteForByte) {
  uint64_t z = zeqond_of(now_);
  PeerKey responder{resp_id_.zid, resp_id_.keypair.public_key};

  std::array<uint8_t, wire::INIT_SIZE> m1{};
  auto initiator = InitiatorHandshake::start(init_id_, responder, mesh_, z, rnd("initiator"), m1);
  ASSERT_TRUE(initiator);
  EXPECT_EQ(to_hex(m1), std::string(v_["handshake_init"]));

  ReceivedInitiation received;
  ASSERT_EQ(read_initiation(resp_id_, mac1_key_for(resp_id_.keypair.public_key), m1, received), HandshakeReject::kNone);
  EXPECT_EQ(received.payload.zid, init_id_.zid);
  EXPECT_EQ(received.initiator_static, init_id_.keypair.public_key);
  EXPECT_EQ(received.payload.zeqond, z);

  std::array<uint8_t, wire::RESPONSE_SIZE> m2{};
  SessionKeys resp_keys;
  ASSERT_TRUE(write_response(received, resp_id_, mesh_, z, rnd("responder"), m2, resp_keys));
  EXPECT_EQ(to_hex(m2), std::string(v_["handshake_response"]));

  SessionKeys init_keys;
  ASSERT_EQ(initiator->finish(m2, z, mesh_, init_keys), HandshakeReject::kNone);
  EXPECT_EQ(to_hex(init_keys.send_key.span()), std::string(v_["key_i2r"]));
  EXPECT_EQ(to_hex(init_keys.recv_key.span()), std::string(v_["key_r2i"]));
  EXPECT_EQ(to_hex(resp_keys.recv_key.span()), std::string(v_["key_i2r"]));
  EXPECT_EQ(to_hex(resp_keys.send_key.span()), std::string(v_["key_r2i"]));
  EXPECT_EQ(init_keys.remote_index, resp_keys.local_index);
  EXPECT_EQ(resp_keys.remote_index, init_keys.local_index);

  // Data message i2r, counter 0.
  Bytes plaintext = hex(v_["data_i2r_counter0"]["plaintext"]);
  Bytes buf(wire::DATA_OVERHEAD + plaintext.size());
  std::copy(plaintext.begin(), plaintext.end(), buf.begin() + wire::DATA_OVERHEAD);
  AeadContext i_send = std::move(AeadContext::create(AeadContext::Direction::kSeal, init_keys.send_key.span()).value());
  size_t n = seal_data_message(i_send, init_keys.remote_index, z, 0, buf.data(), plaintext.size()).value();
  EXPECT_EQ(to_hex(ByteSpan(buf.data(), n)), std::string(v_["data_i2r_counter0"]["message"]));

  AeadContext r_recv = std::move(AeadContext::create(AeadContext::Direction::kOpen, resp_keys.recv_key.span()).value());
  DataHeader hdr;
  ASSERT_TRUE(parse_data_header(buf, hdr));
  EXPECT_EQ(hdr.receiver_index, resp_keys.local_index);
  EXPECT_EQ(hdr.counter, 0u);
  ASSERT_TRUE(open_data_message(r_recv, buf.data(), buf.size()));
  EXPECT_EQ(Bytes(buf.begin() + wire::DATA_OVERHEAD, buf.end()), plaintext);

  // Keepalive r2i, counter 0: an empty plaintext.
  Bytes ka(wire::DATA_OVERHEAD);
  AeadContext r_send = std::move(AeadContext::create(AeadContext::Direction::kSeal, resp_keys.send_key.span()).value());
  n = seal_data_message(r_send, resp_keys.remote_index, z, 0, ka.data(), 0).value();
  EXPECT_EQ(to_hex(ByteSpan(ka.data(), n)), std::string(v_["keepalive_r2i_counter0"]["message"]));
  AeadContext i_recv = std::move(AeadContext::create(AeadContext::Direction::kOpen, init_keys.recv_key.span()).value());
  EXPECT_TRUE(open_data_message(i_recv, ka.data(), ka.size()));
}

TEST_F(ZeqvpnVectors, ResponderAcceptsVectorMessagesAtVectorClock) {
  // Feed the published message 1 as a node would receive it.
  Bytes m1 = hex(v_["handshake_init"]);
  ReceivedInitiation received;
  ASSERT_EQ(read_initiation(resp_id_, mac1_key_for(resp_id_.keypair.public_key), m1, received), HandshakeReject::kNone);
  EXPECT_TRUE(within_drift(received.payload.zeqond, zeqond_of(now_)));
  EXPECT_FALSE(within_drift(received.payload.zeqond, zeqond_of(now_) + 2));
}

}  // namespace zeq
