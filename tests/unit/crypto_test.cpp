#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "core/bytes.hpp"
#include "crypto/aead.hpp"
#include "crypto/hash.hpp"
#include "crypto/random.hpp"
#include "crypto/x25519.hpp"

namespace zeq {

static Bytes H(const char* s) { return *from_hex(s); }

TEST(Sha256, Fips180Abc) {
  EXPECT_EQ(to_hex(sha256(as_bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256({as_bytes("a"), as_bytes("bc")}), sha256(as_bytes("abc")));
}

TEST(HmacSha256, Rfc4231Case1And2) {
  Bytes key(20, 0x0b);
  EXPECT_EQ(to_hex(hmac_sha256(key, as_bytes("Hi There"))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(to_hex(hmac_sha256(as_bytes("Jefe"), as_bytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// RFC 7914 section 11's PBKDF2-HMAC-SHA256 vectors (64-byte outputs: two
// blocks, so the block index is exercised too).
TEST(Pbkdf2Sha256, Rfc7914Vectors) {
  Bytes out(64);
  ASSERT_TRUE(pbkdf2_sha256(as_bytes("passwd"), as_bytes("salt"), 1, out));
  EXPECT_EQ(to_hex(out),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
            "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
  ASSERT_TRUE(pbkdf2_sha256(as_bytes("Password"), as_bytes("NaCl"), 80000, out));
  EXPECT_EQ(to_hex(out),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
            "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");
}

// The same function as OpenSSL's PKCS5_PBKDF2_HMAC (the reference): empty,
// short, block-sized and longer-than-a-block passwords (the last is hashed
// into the HMAC key), empty and long salts, outputs shorter than, equal to
// and not a multiple of a block, and the vault's 32-byte key at a reduced
// iteration count.
TEST(Pbkdf2Sha256, MatchesOpenSslReference) {
  struct Case {
    size_t password, salt, out;
    int iterations;
  };
  const Case cases[] = {{0, 16, 32, 1},  {1, 0, 1, 2},     {32, 16, 32, 1000}, {63, 7, 33, 3},
                        {64, 64, 64, 5}, {65, 100, 95, 4}, {200, 1, 31, 17}};
  for (const Case& c : cases) {
    Bytes password(c.password), salt(c.salt);
    for (size_t i = 0; i < password.size(); ++i) password[i] = uint8_t(i * 31 + 7);
    for (size_t i = 0; i < salt.size(); ++i) salt[i] = uint8_t(i * 17 + 3);
    Bytes ours(c.out), reference(c.out);
    ASSERT_TRUE(pbkdf2_sha256(password, salt, c.iterations, ours));
    ASSERT_EQ(PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(password.data()), int(password.size()), salt.data(),
                                int(salt.size()), c.iterations, EVP_sha256(), int(reference.size()), reference.data()),
              1);
    EXPECT_EQ(to_hex(ours), to_hex(reference)) << "password " << c.password << " salt " << c.salt << " out " << c.out
                                               << " iterations " << c.iterations;
  }
}

TEST(Pbkdf2Sha256, RefusesNoIterationsAndEmptyOutput) {
  Bytes out(32), none;
  EXPECT_FALSE(pbkdf2_sha256(as_bytes("p"), as_bytes("s"), 0, out));
  EXPECT_FALSE(pbkdf2_sha256(as_bytes("p"), as_bytes("s"), -1, out));
  EXPECT_FALSE(pbkdf2_sha256(as_bytes("p"), as_bytes("s"), 1, none));
}

TEST(HkdfSha256, Rfc5869Case1) {
  Bytes ikm(22, 0x0b);
  Bytes salt = H("000102030405060708090a0b0c");
  Bytes info = H("f0f1f2f3f4f5f6f7f8f9");
  Bytes okm(42);
  ASSERT_TRUE(hkdf_sha256(salt, ikm, info, okm));
  EXPECT_EQ(to_hex(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(HkdfSha256, Rfc5869Case3EmptySaltInfo) {
  Bytes ikm(22, 0x0b);
  Bytes okm(42);
  ASSERT_TRUE(hkdf_sha256({}, ikm, {}, okm));
  EXPECT_EQ(to_hex(okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(Aes256Gcm, NistVectorAndTamper) {
  // NIST GCM test case 16 (AES-256, 60-byte plaintext, 20-byte AAD), IV
  // truncated to the 96-bit form of case 14+ family: use McGrew-Viega case 16.
  auto key = H("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  auto iv = H("cafebabefacedbaddecaf888");
  auto pt = H("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  auto aad = H("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  Bytes out(pt.size() + 16);
  ASSERT_TRUE(aes256gcm_seal(std::span<const uint8_t, 32>(key.data(), 32), std::span<const uint8_t, 12>(iv.data(), 12),
                             aad, pt, out.data()));
  EXPECT_EQ(to_hex(ByteSpan(out).first(pt.size())),
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662");
  EXPECT_EQ(to_hex(ByteSpan(out).last(16)), "76fc6ece0f4e1768cddf8853bb2d551b");

  Bytes back(pt.size());
  ASSERT_TRUE(aes256gcm_open(std::span<const uint8_t, 32>(key.data(), 32), std::span<const uint8_t, 12>(iv.data(), 12),
                             aad, out, back.data()));
  EXPECT_EQ(back, pt);
  out[3] ^= 1;
  EXPECT_FALSE(aes256gcm_open(std::span<const uint8_t, 32>(key.data(), 32), std::span<const uint8_t, 12>(iv.data(), 12),
                              aad, out, back.data()));
}

TEST(AeadContext, InPlaceReuseAcrossPackets) {
  std::array<uint8_t, 32> key{};
  random_fill(key);
  AeadContext seal = std::move(AeadContext::create(AeadContext::Direction::kSeal, key).value());
  AeadContext open = std::move(AeadContext::create(AeadContext::Direction::kOpen, key).value());
  for (int i = 0; i < 3; ++i) {
    uint8_t iv[12] = {0};
    iv[11] = uint8_t(i);
    Bytes data(100 + i, uint8_t(i));
    Bytes orig = data;
    uint8_t tag[16];
    uint8_t aad[8] = {4, 0, 0, 0, 1, 2, 3, 4};
    ASSERT_TRUE(seal.seal(iv, aad, data, tag));
    EXPECT_NE(data, orig);
    ASSERT_TRUE(open.open(iv, aad, data, tag));
    EXPECT_EQ(data, orig);
    aad[0] = 5;  // the header is authenticated
    ASSERT_TRUE(seal.seal(iv, aad, data, tag));
    aad[0] = 4;
    EXPECT_FALSE(open.open(iv, aad, data, tag));
  }
}

TEST(X25519, Rfc7748SharedSecret) {
  auto a = H("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  auto b = H("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  auto ka = x25519_from_private(std::span<const uint8_t, 32>(a.data(), 32));
  auto kb = x25519_from_private(std::span<const uint8_t, 32>(b.data(), 32));
  EXPECT_EQ(to_hex(ka.public_key), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  std::array<uint8_t, 32> s1{}, s2{};
  ASSERT_TRUE(x25519_dh(ka.private_key.span(), kb.public_key, s1));
  ASSERT_TRUE(x25519_dh(kb.private_key.span(), ka.public_key, s2));
  EXPECT_EQ(s1, s2);
  EXPECT_EQ(to_hex(s1), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}

TEST(X25519, LowOrderPointRejected) {
  auto kp = x25519_generate();
  std::array<uint8_t, 32> zero_point{};
  std::array<uint8_t, 32> out{};
  EXPECT_FALSE(x25519_dh(kp.private_key.span(), zero_point, out));
}

// A context that could not be keyed (or was moved from) fails every call:
// callers drop the packet, nothing throws.
TEST(AeadContext, EmptyContextFailsEveryCall) {
  AeadContext empty;
  uint8_t iv[12] = {0}, tag[16] = {0};
  Bytes data(32, 1);
  EXPECT_FALSE(empty.seal(iv, {}, data, tag));
  EXPECT_FALSE(empty.open(iv, {}, data, tag));
}

TEST(ConstantTimeEqual, ComparesLengthAndBytes) {
  Bytes a{1, 2, 3}, b{1, 2, 3}, c{1, 2, 4}, d{1, 2};
  EXPECT_TRUE(constant_time_equal(a, b));
  EXPECT_FALSE(constant_time_equal(a, c));
  EXPECT_FALSE(constant_time_equal(a, d));
}

}  // namespace zeq
