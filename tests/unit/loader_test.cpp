// loader/: reading the configuration file, the node's key file and the
// secrets from the environment and systemd credentials, with real files.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "identity/zid.hpp"
#include "loader/loader.hpp"

namespace zeq {

TEST(Secrets, CredentialFileWithOrWithoutNamePrefix) {
  std::string dir = "/tmp/zeqvpn-creds-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/ZEQ_FIELD_KEY") << "ZEQ_FIELD_KEY=" << std::string(64, 'a') << "\n";
  std::ofstream(dir + "/ZEQ_MESH_SECRET") << std::string(64, 'b') << "\n";
  unsetenv("ZEQ_FIELD_KEY");
  unsetenv("ZEQ_MESH_SECRET");
  setenv("CREDENTIALS_DIRECTORY", dir.c_str(), 1);
  auto f = load_field_key();
  auto m = load_mesh_secret();
  unsetenv("CREDENTIALS_DIRECTORY");
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(f) << f.message();
  ASSERT_TRUE(m) << m.message();
  EXPECT_EQ(f->span()[0], 0xaa);
  EXPECT_EQ(m->span()[0], 0xbb);
}

TEST(Secrets, MissingFieldKeySaysWhatItIs) {
  unsetenv("ZEQ_FIELD_KEY");
  unsetenv("CREDENTIALS_DIRECTORY");
  auto missing = load_field_key();
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find("ZEQ_FIELD_KEY is not set"), std::string::npos);
}

TEST(MeshSecret, MissingSecretSaysHowToFix) {
  unsetenv("ZEQ_MESH_SECRET");
  unsetenv("CREDENTIALS_DIRECTORY");
  auto s = load_mesh_secret();
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("ZEQ_MESH_SECRET is not set"), std::string::npos);
  setenv("ZEQ_MESH_SECRET", std::string(64, 'd').c_str(), 1);
  EXPECT_TRUE(load_mesh_secret());
  unsetenv("ZEQ_MESH_SECRET");
}

TEST(Config, ExampleFileIsValid) {
  auto c = load_config_file(ZEQ_EXAMPLE_CONFIG);
  ASSERT_TRUE(c) << c.message();
  EXPECT_EQ(c->peers.size(), 1u);
  EXPECT_EQ(c->control.group, "zeqvpn");
}

TEST(Config, UnreadableFileIsNamed) {
  auto c = load_config_file("/nonexistent/zeqvpn.yaml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find("/nonexistent/zeqvpn.yaml: cannot read the config file"), std::string::npos) << c.message();
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
