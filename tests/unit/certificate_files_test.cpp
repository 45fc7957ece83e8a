// The mesh authority's files (loader/certificate_files.hpp): modes, refusing
// to replace, atomic replacement, and errors that name the file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "identity/zid.hpp"
#include "loader/certificate_files.hpp"

namespace zeq {

namespace {

namespace fs = std::filesystem;

// A fresh directory, removed with everything in it afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "zeq-cert-files-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

mode_t mode_of(const std::string& path) {
  struct stat st{};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

Certificate sample_certificate(const Ed25519Keypair& ca) {
  auto node = x25519_generate();
  CertificateBody b;
  b.name = "beta";
  b.zid = zid_from_public_key(node.public_key);
  b.x25519_public = node.public_key;
  b.signing_public = node_signing_keypair(node.private_key.span()).public_key;
  b.addresses = {*parse_ip_prefix("10.77.0.2/24")};
  b.not_before_z = 1;
  b.not_after_z = 100;
  return sign_certificate(b, ca).value();
}

}  // namespace

TEST(CertificateFiles, CaKeyFilesAreWrittenOnceWithTheirModes) {
  TempDir dir;
  const std::string ca_dir = dir / "ca";
  CaPrivateKey ca{"office", ed25519_generate()};
  ASSERT_TRUE(write_ca_key_files(ca_dir, ca));
  EXPECT_EQ(mode_of(ca_dir), 0700u);
  EXPECT_EQ(mode_of(ca_dir + "/ca.key"), 0600u);
  EXPECT_EQ(mode_of(ca_dir + "/ca.pub") & 0600u, 0600u);
  auto priv = load_ca_private_key(ca_dir + "/ca.key");
  ASSERT_TRUE(priv) << priv.message();
  EXPECT_EQ(priv->key.public_key, ca.key.public_key);
  EXPECT_EQ(priv->name, "office");
  auto pub = load_ca_public_key(ca_dir + "/ca.pub");
  ASSERT_TRUE(pub) << pub.message();
  EXPECT_EQ(pub->key, ca.key.public_key);

  // Never replaced: a second CA in the same place is refused, the first stays.
  std::string key_before = read_all(ca_dir + "/ca.key");
  Status again = write_ca_key_files(ca_dir, CaPrivateKey{"other", ed25519_generate()});
  EXPECT_FALSE(again);
  EXPECT_NE(again.message().find(ca_dir + "/ca.key exists"), std::string::npos) << again.message();
  EXPECT_EQ(read_all(ca_dir + "/ca.key"), key_before);
  // Nor when only ca.pub is there.
  const std::string half = dir / "half";
  ASSERT_EQ(::mkdir(half.c_str(), 0700), 0);
  write_text(half + "/ca.pub", "x");
  EXPECT_FALSE(write_ca_key_files(half, ca));
  EXPECT_FALSE(fs::exists(half + "/ca.key"));
  EXPECT_FALSE(write_ca_key_files(dir / "missing/parent/ca", ca));
}

TEST(CertificateFiles, CaKeyReadableByOthersIsRefused) {
  TempDir dir;
  CaPrivateKey ca{"office", ed25519_generate()};
  ASSERT_TRUE(write_ca_key_files(dir / "ca", ca));
  const std::string key = dir / "ca/ca.key";
  ASSERT_EQ(::chmod(key.c_str(), 0640), 0);
  auto r = load_ca_private_key(key);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.message(), "CA key file " + key + " is readable by group or others (mode 0640); run `chmod 600 " + key + "`");
  // The public half is not secret.
  ASSERT_EQ(::chmod((dir / "ca/ca.pub").c_str(), 0644), 0);
  EXPECT_TRUE(load_ca_public_key(dir / "ca/ca.pub"));
}

TEST(CertificateFiles, ErrorsNameTheFileAndTheFix) {
  TempDir dir;
  auto ca = ed25519_generate();
  Certificate cert = sample_certificate(ca);
  const std::string path = dir / "beta.crt";
  std::string text = "# a comment\n" + armor(ARMOR_CERTIFICATE, cert.encoded);
  write_text(path, text);
  auto loaded = load_certificate(path);
  ASSERT_TRUE(loaded) << loaded.message();
  EXPECT_EQ(loaded->encoded, cert.encoded);

  std::string damaged = text;
  damaged[text.find('\n', text.find("BEGIN")) + 5] = '*';  // line 3
  write_text(path, damaged);
  EXPECT_EQ(load_certificate(path).message(),
            "certificate file " + path + ": line 3: \"*\" at column 5 is not base64; get it again from the mesh "
            "authority (`zeqvpnctl ca sign`)");
  EXPECT_NE(load_certificate(dir / "none.crt").message().find("certificate file " + dir / "none.crt" + ": cannot read it (No such file or directory)"),
            std::string::npos);
  EXPECT_NE(load_certificate(dir.path()).message().find("is a directory, not a regular file"), std::string::npos);
  // The right armour around the wrong bytes.
  write_text(path, armor(ARMOR_CERTIFICATE, Bytes{1, 2, 3}));
  EXPECT_NE(load_certificate(path).message().find("certificate file " + path + ": certificate byte 0 (magic)"),
            std::string::npos);
  // A list where a certificate belongs.
  write_text(path, armor(ARMOR_REVOCATION_LIST, sign_revocation_list({}, ca)->encoded));
  EXPECT_NE(load_certificate(path).message().find("there is a BEGIN ZEQVPN REVOCATION LIST----- block instead"),
            std::string::npos);
  auto list = load_revocation_list(path);
  ASSERT_TRUE(list) << list.message();
  EXPECT_TRUE(load_armored_text(path));
}

TEST(CertificateFiles, NewFilesAreNotReplacedAndReplaceIsAtomic) {
  TempDir dir;
  const std::string path = dir / "list.crl";
  ASSERT_TRUE(write_new_file(path, "one\n", 0644));
  Status again = write_new_file(path, "two\n", 0644);
  EXPECT_FALSE(again);
  EXPECT_NE(again.message().find(path + " exists"), std::string::npos);
  EXPECT_EQ(read_all(path), "one\n");
  ASSERT_TRUE(replace_file(path, "three\n", 0644));
  EXPECT_EQ(read_all(path), "three\n");
  ASSERT_TRUE(replace_file(dir / "fresh", "four\n", 0600));
  EXPECT_EQ(mode_of(dir / "fresh"), 0600u);
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 2u);  // no temporary file left behind
  EXPECT_FALSE(replace_file(dir / "no/such/dir/file", "x", 0644));
}

}  // namespace zeq
