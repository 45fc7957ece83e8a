// loader/: reading the configuration file, the node's key file and the
// secrets from the environment and systemd credentials, with real files.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "identity/zid.hpp"
#include "loader/loader.hpp"
#include "loader/regular_file.hpp"

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

// ZEQ_SYNC_SECRET and ZEQ_SYNC_UID: optional, but both or neither; each
// malformed one named.
TEST(SyncSecret, BothOrNeitherAndEachChecked) {
  unsetenv("CREDENTIALS_DIRECTORY");
  unsetenv("ZEQ_SYNC_SECRET");
  unsetenv("ZEQ_SYNC_UID");
  auto none = load_sync_credentials();
  ASSERT_TRUE(none) << none.message();
  EXPECT_FALSE(none->has_value());
  setenv("ZEQ_SYNC_SECRET", std::string(64, 'c').c_str(), 1);
  auto no_uid = load_sync_credentials();
  ASSERT_FALSE(no_uid);
  EXPECT_NE(no_uid.message().find("ZEQ_SYNC_UID is not"), std::string::npos) << no_uid.message();
  setenv("ZEQ_SYNC_UID", "mesh-one\n", 1);
  auto both = load_sync_credentials();
  ASSERT_TRUE(both) << both.message();
  ASSERT_TRUE(both->has_value());
  EXPECT_EQ((*both)->secret.size(), 32u);
  EXPECT_EQ(std::string((*both)->uid.span().begin(), (*both)->uid.span().end()), "mesh-one");
  setenv("ZEQ_SYNC_SECRET", "abc", 1);
  auto short_secret = load_sync_credentials();
  ASSERT_FALSE(short_secret);
  EXPECT_NE(short_secret.message().find("ZEQ_SYNC_SECRET (environment) must be at least 32 hex digits"),
            std::string::npos)
      << short_secret.message();
  EXPECT_EQ(short_secret.message().find("abc"), std::string::npos) << "a secret is never echoed";
  setenv("ZEQ_SYNC_SECRET", std::string(64, 'c').c_str(), 1);
  setenv("ZEQ_SYNC_UID", "two words", 1);
  auto bad_uid = load_sync_credentials();
  ASSERT_FALSE(bad_uid);
  EXPECT_NE(bad_uid.message().find("printable ASCII without spaces"), std::string::npos) << bad_uid.message();
  unsetenv("ZEQ_SYNC_SECRET");
  auto uid_alone = load_sync_credentials();
  ASSERT_FALSE(uid_alone);
  EXPECT_NE(uid_alone.message().find("ZEQ_SYNC_SECRET is not"), std::string::npos);
  unsetenv("ZEQ_SYNC_UID");
  unsetenv("ZEQ_ETCD_PASSWORD");
  auto no_password = load_etcd_password();
  ASSERT_TRUE(no_password);
  EXPECT_FALSE(no_password->has_value());
  setenv("ZEQ_ETCD_PASSWORD", "s3cret\n", 1);
  auto password = load_etcd_password();
  ASSERT_TRUE(password && password->has_value());
  EXPECT_EQ((*password)->size(), 6u);
  unsetenv("ZEQ_ETCD_PASSWORD");
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

// Files that are not a config file must be refused at once, not read
// forever (/dev/zero) or waited on (a FIFO with no writer).
class OddFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/zeqvpn-odd-" + std::to_string(getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(OddFileTest, ConfigFromDeviceFifoOrDirectoryIsRefused) {
  auto zero = load_config_file("/dev/zero");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.message(), "/dev/zero: the config file is a character device, not a regular file; give the path of "
                            "the YAML file to --config");
  std::string fifo = dir_ + "/fifo.yaml";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto from_fifo = load_config_file(fifo);  // would block here without O_NONBLOCK
  ASSERT_FALSE(from_fifo);
  EXPECT_NE(from_fifo.message().find(fifo + ": the config file is a FIFO (named pipe), not a regular file"),
            std::string::npos) << from_fifo.message();
  auto dir = load_config_file(dir_);
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.message().find("is a directory"), std::string::npos) << dir.message();
}

TEST_F(OddFileTest, ConfigOverTheSizeBoundIsRefused) {
  std::string big = dir_ + "/big.yaml";
  std::ofstream(big) << "# " << std::string(MAX_CONFIG_BYTES, 'x') << "\n";
  auto c = load_config_file(big);
  ASSERT_FALSE(c);
  EXPECT_NE(c.message().find(big + ": the config file holds more than 1048576 bytes"), std::string::npos) << c.message();
  // Exactly at the bound is read (and then parsed).
  std::filesystem::resize_file(big, MAX_CONFIG_BYTES);
  auto at_bound = load_config_file(big);
  ASSERT_FALSE(at_bound);
  EXPECT_EQ(at_bound.message().find("holds more"), std::string::npos) << at_bound.message();
}

// The string form sizes its buffer from the file, not from the bound: a
// small config costs a small allocation (it used to zero-fill 1 MiB).
TEST_F(OddFileTest, StringReadIsSizedFromTheFileAndBounded) {
  std::string small = dir_ + "/small.yaml";
  std::ofstream(small) << "node:\n  name: a\n";
  std::string text = "left over";
  auto read = read_regular_file(small, text, MAX_CONFIG_BYTES);
  ASSERT_TRUE(read) << read.detail;
  EXPECT_EQ(text, "node:\n  name: a\n");
  EXPECT_EQ(read.size, text.size());
  EXPECT_LT(text.capacity(), 8192u) << "sized to the bound instead of the file";

  std::string exact = dir_ + "/exact";
  std::ofstream(exact) << std::string(5000, 'e');
  ASSERT_TRUE(read_regular_file(exact, text, 5000));
  EXPECT_EQ(text, std::string(5000, 'e'));
  auto over = read_regular_file(exact, text, 4999);
  EXPECT_EQ(over.problem, RegularFileRead::kTooLarge);
  EXPECT_TRUE(text.empty());
}

// A file longer than its length says (a /proc file says 0) is read again
// with all the room allowed, or refused past the bound.
TEST_F(OddFileTest, StringReadOfAFileLongerThanItsLength) {
  struct stat st{};
  ASSERT_EQ(stat("/proc/self/smaps", &st), 0);
  ASSERT_EQ(st.st_size, 0);
  std::string text;
  auto read = read_regular_file("/proc/self/smaps", text, MAX_CONFIG_BYTES);
  ASSERT_TRUE(read) << read.detail;
  EXPECT_GT(text.size(), 8192u);  // past the first guess of one page
  EXPECT_EQ(read.size, text.size());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NE(text.find("Rss:"), std::string::npos);
  auto over = read_regular_file("/proc/self/smaps", text, 8192);
  EXPECT_EQ(over.problem, RegularFileRead::kTooLarge);
  EXPECT_TRUE(text.empty());
}

TEST_F(OddFileTest, SymlinkToConfigIsFollowed) {
  std::string link = dir_ + "/link.yaml";
  std::filesystem::create_symlink(ZEQ_EXAMPLE_CONFIG, link);
  auto c = load_config_file(link);
  EXPECT_TRUE(c) << c.message();
}

TEST_F(OddFileTest, KeyFileAndCredentialMustBeRegularFiles) {
  std::string fifo = dir_ + "/node.key";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto id = load_identity_key_file(fifo);
  ASSERT_FALSE(id);
  EXPECT_NE(id.message().find("identity key file " + fifo + ": is a FIFO (named pipe), not a regular file"),
            std::string::npos) << id.message();
  std::string long_key = dir_ + "/long.key";
  std::ofstream(long_key) << std::string(300, 'a');
  chmod(long_key.c_str(), 0600);
  auto too_long = load_identity_key_file(long_key);
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.message().find("holds more than 256 bytes"), std::string::npos) << too_long.message();

  ASSERT_EQ(mkfifo((dir_ + "/ZEQ_MESH_SECRET").c_str(), 0600), 0);
  unsetenv("ZEQ_MESH_SECRET");
  setenv("CREDENTIALS_DIRECTORY", dir_.c_str(), 1);
  auto secret = load_mesh_secret();
  unsetenv("CREDENTIALS_DIRECTORY");
  ASSERT_FALSE(secret);
  EXPECT_NE(secret.message().find("credential " + dir_ + "/ZEQ_MESH_SECRET is a FIFO (named pipe), not a regular file"),
            std::string::npos) << secret.message();
}

// A credential that is there but cannot be read is not "missing": the error
// names the file, the reason and the fix. As root, EACCES needs another
// user, so the load runs in a child that drops to nobody.
TEST_F(OddFileTest, UnreadableCredentialIsNamedNotMissing) {
  std::string path = dir_ + "/ZEQ_MESH_SECRET";
  std::ofstream(path) << std::string(64, 'b') << "\n";
  ASSERT_EQ(chmod(path.c_str(), geteuid() == 0 ? 0600 : 0000), 0);
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  unsetenv("ZEQ_MESH_SECRET");
  setenv("CREDENTIALS_DIRECTORY", dir_.c_str(), 1);
  std::string message;
  if (geteuid() == 0) {
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(out[0]);
      if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
      auto secret = load_mesh_secret();
      std::string m = secret ? "loaded" : secret.message();
      _exit(::write(out[1], m.data(), m.size()) == ssize_t(m.size()) ? 0 : 3);
    }
    close(out[1]);
    char buf[1024];
    ssize_t n;
    while ((n = ::read(out[0], buf, sizeof buf)) > 0) message.append(buf, size_t(n));
    close(out[0]);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  } else {
    auto secret = load_mesh_secret();
    message = secret ? "loaded" : secret.message();
  }
  unsetenv("CREDENTIALS_DIRECTORY");
  EXPECT_NE(message.find("credential " + path + " cannot be read (" + std::strerror(EACCES) + ")"), std::string::npos)
      << message;
  EXPECT_NE(message.find("mode 0600"), std::string::npos) << message;
  EXPECT_EQ(message.find("is not set"), std::string::npos) << message;

  // No such file in the directory: that one is missing, as before.
  std::filesystem::remove(path);
  setenv("CREDENTIALS_DIRECTORY", dir_.c_str(), 1);
  auto none = load_mesh_secret();
  unsetenv("CREDENTIALS_DIRECTORY");
  ASSERT_FALSE(none);
  EXPECT_NE(none.message().find("ZEQ_MESH_SECRET is not set"), std::string::npos) << none.message();
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
