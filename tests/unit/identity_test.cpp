#include <gtest/gtest.h>

#include "core/bytes.hpp"
#include "identity/key_file.hpp"
#include "identity/zid.hpp"

namespace zeq {

TEST(Zid, FromPublicKeyMatchesVector) {
  // From shared/testdata/zeqvpn-vectors.json.
  auto pub = *from_hex("07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c");
  EXPECT_EQ(zid_from_public_key(std::span<const uint8_t, 32>(pub.data(), 32)), "zeq-aaa8fff703b5");
}

TEST(Zid, Validation) {
  EXPECT_TRUE(is_valid_zid("zeq-aaa8fff703b5"));
  EXPECT_FALSE(is_valid_zid("zeq-AAA8fff703b5"));
  EXPECT_FALSE(is_valid_zid("zeq-aaa8fff703b"));
  EXPECT_FALSE(is_valid_zid("zeX-aaa8fff703b5"));
  EXPECT_FALSE(is_valid_zid(""));
}

TEST(KeyEncoding, Base64AndHexRoundTrip) {
  auto kp = x25519_generate();
  std::string b64 = encode_key(kp.public_key);
  EXPECT_EQ(b64.size(), 44u);
  EXPECT_EQ(*decode_key(b64), kp.public_key);
  EXPECT_EQ(*decode_key("  " + b64 + "\n"), kp.public_key);
  EXPECT_EQ(*decode_key(to_hex(kp.public_key)), kp.public_key);
  EXPECT_FALSE(decode_key(b64.substr(1)));
  EXPECT_FALSE(decode_key(std::string(44, '!')));
  EXPECT_FALSE(decode_key(""));
}

}  // namespace zeq
