// Replays every cacophony vector in shared/testdata/noise-vectors.json byte
// for byte: both handshake messages, the handshake hash, and the transport
// messages that follow with the Split() ciphers.
#include <gtest/gtest.h>

#include "protocol/noise_handshake.hpp"
#include "test_data.hpp"

namespace zeq {

using test::hex;
using test::hex_array;

namespace {

noise::Pattern pattern_of(const std::string& name) {
  if (name.rfind("Noise_IKpsk2_", 0) == 0) return noise::Pattern::IKpsk2;
  if (name.rfind("Noise_IK_", 0) == 0) return noise::Pattern::IK;
  return noise::Pattern::NN;
}

}  // namespace

TEST(NoiseVectors, ReplayEveryVector) {
  auto doc = test::load_json("noise-vectors.json");
  ASSERT_GE(doc["vectors"].size(), 3u);
  for (const auto& v : doc["vectors"]) {
    std::string name = v["protocol_name"];
    SCOPED_TRACE(name);
    auto pattern = pattern_of(name);

    X25519Keypair init_s, resp_s;
    noise::HandshakeState::Options io, ro;
    io.pattern = ro.pattern = pattern;
    io.protocol_name = ro.protocol_name = name;
    io.initiator = true;
    ro.initiator = false;
    io.prologue = hex(v["init_prologue"]);
    ro.prologue = hex(v["resp_prologue"]);
    io.ephemeral.emplace(hex_array<32>(v["init_ephemeral"]));
    ro.ephemeral.emplace(hex_array<32>(v["resp_ephemeral"]));
    if (v.contains("init_static")) {
      init_s = x25519_from_private(hex_array<32>(v["init_static"]));
      io.s = &init_s;
      io.rs = hex_array<32>(v["init_remote_static"]);
    }
    if (v.contains("resp_static")) {
      resp_s = x25519_from_private(hex_array<32>(v["resp_static"]));
      ro.s = &resp_s;
    }
    if (v.contains("init_psks")) {
      io.psk.emplace(hex_array<32>(v["init_psks"][0]));
      ro.psk.emplace(hex_array<32>(v["resp_psks"][0]));
    }
    noise::HandshakeState init(io), resp(ro);

    const auto& msgs = v["messages"];
    ASSERT_EQ(msgs.size(), 6u);
    noise::CipherState i_send, i_recv, r_send, r_recv;
    for (size_t i = 0; i < msgs.size(); ++i) {
      SCOPED_TRACE("message " + std::to_string(i));
      Bytes payload = hex(msgs[i]["payload"]);
      Bytes expect = hex(msgs[i]["ciphertext"]);
      bool from_initiator = i % 2 == 0;
      Bytes wire, got;
      if (i < 2) {
        auto& w = from_initiator ? init : resp;
        auto& r = from_initiator ? resp : init;
        wire.resize(w.message_size(payload.size()));
        ASSERT_TRUE(w.write_message(payload, wire.data()));
        ASSERT_EQ(to_hex(wire), to_hex(expect));
        ASSERT_TRUE(r.read_message(wire, got));
        ASSERT_EQ(got, payload);
        if (i == 1) {
          ASSERT_TRUE(init.finished() && resp.finished());
          EXPECT_EQ(to_hex(init.handshake_hash()), std::string(v["handshake_hash"]));
          EXPECT_EQ(init.handshake_hash(), resp.handshake_hash());
          Key32 k1, k2;
          init.split(k1, k2);
          i_send.initialize_key(k1.span());
          i_recv.initialize_key(k2.span());
          resp.split(k1, k2);
          r_recv.initialize_key(k1.span());
          r_send.initialize_key(k2.span());
        }
      } else {
        auto& send = from_initiator ? i_send : r_send;
        auto& recv = from_initiator ? r_recv : i_recv;
        wire.resize(payload.size() + noise::TAG_LEN);
        ASSERT_TRUE(send.encrypt_with_ad({}, payload, wire.data()));
        ASSERT_EQ(to_hex(wire), to_hex(expect));
        got.resize(payload.size());
        ASSERT_TRUE(recv.decrypt_with_ad({}, wire, got.data()));
        ASSERT_EQ(got, payload);
      }
    }
  }
}

TEST(NoiseHandshake, WrongPskFailsAtResponderMessage) {
  auto a = x25519_generate(), b = x25519_generate();
  noise::HandshakeState::Options io, ro;
  io.protocol_name = ro.protocol_name = "Noise_IKpsk2_25519_AESGCM_SHA256";
  io.initiator = true;
  io.s = &a;
  io.rs = b.public_key;
  io.psk.emplace(std::array<uint8_t, 32>{1});
  io.ephemeral.emplace(std::array<uint8_t, 32>{3});
  ro.initiator = false;
  ro.s = &b;
  ro.psk.emplace(std::array<uint8_t, 32>{2});
  ro.ephemeral.emplace(std::array<uint8_t, 32>{4});
  noise::HandshakeState init(io), resp(ro);
  Bytes m1(init.message_size(0)), got;
  ASSERT_TRUE(init.write_message({}, m1.data()));
  ASSERT_TRUE(resp.read_message(m1, got));  // psk2 is not used in message 1
  Bytes m2(resp.message_size(0));
  ASSERT_TRUE(resp.write_message({}, m2.data()));
  EXPECT_FALSE(init.read_message(m2, got));
}

// protocol/ draws no randomness: without an ephemeral key from the caller
// there is no message.
TEST(NoiseHandshake, NoEphemeralNoMessage) {
  auto a = x25519_generate(), b = x25519_generate();
  noise::HandshakeState::Options io;
  io.protocol_name = "Noise_IKpsk2_25519_AESGCM_SHA256";
  io.s = &a;
  io.rs = b.public_key;
  io.psk.emplace(std::array<uint8_t, 32>{1});
  noise::HandshakeState init(io);
  Bytes m1(init.message_size(0));
  EXPECT_FALSE(init.write_message({}, m1.data()));
}

}  // namespace zeq
