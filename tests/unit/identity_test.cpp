#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

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

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/zeqvpn-keyXXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = tmpl;
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void write(const std::string& text, mode_t mode) {
    std::ofstream(path_) << text;
    chmod(path_.c_str(), mode);
  }
  std::string path_;
};

TEST_F(KeyFileTest, LoadsPrivateKey) {
  auto kp = x25519_generate();
  write(encode_key(kp.private_key.span()) + "\n", 0600);
  auto id = load_identity_key_file(path_);
  ASSERT_TRUE(id) << id.message();
  EXPECT_EQ(id->keypair.public_key, kp.public_key);
  EXPECT_EQ(id->zid, zid_from_public_key(kp.public_key));
}

TEST_F(KeyFileTest, RefusesGroupReadableFile) {
  auto kp = x25519_generate();
  write(encode_key(kp.private_key.span()), 0644);
  auto id = load_identity_key_file(path_);
  ASSERT_FALSE(id);
  EXPECT_NE(id.message().find("chmod 600"), std::string::npos) << id.message();
  EXPECT_NE(id.message().find(path_), std::string::npos);
}

TEST_F(KeyFileTest, RefusesGarbageAndMissing) {
  write("not a key", 0600);
  auto id = load_identity_key_file(path_);
  ASSERT_FALSE(id);
  EXPECT_NE(id.message().find("genkey"), std::string::npos) << id.message();
  auto missing = load_identity_key_file("/nonexistent/zeq.key");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find("/nonexistent/zeq.key"), std::string::npos);
}

}  // namespace zeq
