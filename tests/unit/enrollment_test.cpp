// Onboarding (issue 17): invite tokens, the join exchange (protocol/
// enrollment_*), and the invite store's single use and address allocation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "crypto/random.hpp"
#include "identity/certificate.hpp"
#include "protocol/enrollment_messages.hpp"
#include "protocol/enrollment_token.hpp"
#include "store/invite_store.hpp"
#include "store/schema.hpp"

namespace zeq {
namespace {

using namespace enroll;

InviteToken sample_token(const X25519Keypair& bootstrap) {
  InviteToken t;
  t.mesh_id.fill(0xab);
  t.mesh_name = "testmesh";
  t.invite_id.fill(0x11);
  random_fill(t.secret.mutable_span());
  t.bootstrap_key = bootstrap.public_key;
  t.expires_z = 123456789;
  t.endpoints.push_back(*parse_udp_endpoint("198.18.0.1:51821"));
  t.endpoints.push_back(*parse_udp_endpoint("[2001:db8::1]:51821"));
  return t;
}

TEST(InviteToken, RoundTrips) {
  auto boot = x25519_generate();
  InviteToken t = sample_token(boot);
  std::string text = encode_token(t);
  EXPECT_EQ(text.substr(0, 5), "zqi1.");
  EXPECT_EQ(text.find_first_of(" \n=+/"), std::string::npos) << "one line, url-safe: " << text;
  auto back = decode_token(text + "\n");
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back->mesh_id, t.mesh_id);
  EXPECT_EQ(back->mesh_name, t.mesh_name);
  EXPECT_EQ(back->invite_id, t.invite_id);
  EXPECT_TRUE(std::equal(back->secret.data(), back->secret.data() + 32, t.secret.data()));
  EXPECT_EQ(back->bootstrap_key, t.bootstrap_key);
  EXPECT_EQ(back->expires_z, t.expires_z);
  ASSERT_EQ(back->endpoints.size(), 2u);
  EXPECT_EQ(back->endpoints[0].to_string(), "198.18.0.1:51821");
  EXPECT_EQ(back->endpoints[1].to_string(), "[2001:db8::1]:51821");
}

TEST(InviteToken, BadTokensSayWhatIsWrongWithoutEchoingThem) {
  auto boot = x25519_generate();
  std::string good = encode_token(sample_token(boot));
  struct Case {
    std::string text, says;
  } cases[] = {
      {"", "does not start with \"zqi1.\""},
      {"hello", "does not start with \"zqi1.\""},
      {"zqi1.", "damaged"},
      {good.substr(0, good.size() - 10), "invite token:"},
      {good + "AAAA", "invite token:"},
      {good.substr(0, 20) + "!" + good.substr(21), "not base64url"},
      {good.substr(0, 20) + "\xff" + good.substr(21), "not base64url"},  // a byte the decoder took for '/'
      {good.substr(0, 20) + "=" + good.substr(21), "not base64url"},
      {"zqi1." + std::string(600, 'A'), "more than a token has"},
  };
  for (const auto& c : cases) {
    auto t = decode_token(c.text);
    ASSERT_FALSE(t) << c.text;
    EXPECT_NE(t.message().find(c.says), std::string::npos) << t.message();
    EXPECT_NE(t.message().find("mesh invite"), std::string::npos) << "names the fix: " << t.message();
    EXPECT_EQ(t.message().find(good.substr(5, 30)), std::string::npos) << "echoes the token: " << t.message();
    EXPECT_EQ(t.message().find('\n'), std::string::npos);
  }
}

TEST(InviteToken, RefusesNonCanonicalFields) {
  auto boot = x25519_generate();
  InviteToken t = sample_token(boot);
  t.endpoints.clear();
  EXPECT_FALSE(decode_token(encode_token(t)));  // no endpoint
  t = sample_token(boot);
  t.mesh_name = "bad name";
  EXPECT_FALSE(decode_token(encode_token(t)));
  t = sample_token(boot);
  t.endpoints[0].sa.sin6_port = 0;
  EXPECT_FALSE(decode_token(encode_token(t)));
  for (int i = 0; i < 5; ++i) t.endpoints.push_back(t.endpoints[1]);
  EXPECT_FALSE(decode_token(encode_token(t)));  // more than 4
}

struct Pair {
  X25519Keypair boot = x25519_generate();
  X25519Keypair node = x25519_generate();
  InviteToken token = sample_token(boot);
  Key32 e1, e2;
  Pair() {
    random_fill(e1.mutable_span());
    random_fill(e2.mutable_span());
  }
};

TEST(JoinExchange, CarriesTheAnswerAfterTheProof) {
  Pair p;
  JoinerHandshake joiner(p.token, p.node, p.e1.span());
  BootstrapHandshake boot(p.boot);
  auto hello = joiner.hello();
  ASSERT_TRUE(hello);
  auto h = boot.read_hello(*hello);
  ASSERT_TRUE(h) << h.message();
  EXPECT_EQ(h->invite_id, p.token.invite_id);
  EXPECT_EQ(h->mesh_id, p.token.mesh_id);
  EXPECT_EQ(h->joiner, p.node.public_key);
  // Nothing of the invite is readable on the wire.
  std::string wire(hello->begin(), hello->end());
  EXPECT_EQ(wire.find(std::string(p.token.invite_id.begin(), p.token.invite_id.end())), std::string::npos);
  JoinAnswer early;
  early.mesh_secret = Bytes(32, 7);
  auto challenge = boot.challenge(p.token.secret.span(), p.e2.span());
  ASSERT_TRUE(challenge);
  EXPECT_FALSE(boot.answer(early)) << "no answer, and no mesh secret, before the proof";
  ASSERT_TRUE(joiner.read_challenge(*challenge));
  auto signing = node_signing_keypair(p.node.private_key.span()).public_key;
  auto request = joiner.request(signing);
  ASSERT_TRUE(request);
  auto got = boot.read_request(*request);
  ASSERT_TRUE(got) << got.message();
  EXPECT_EQ(*got, signing);
  JoinAnswer a;
  a.certificate = Bytes(300, 1);
  a.ca_public = Bytes(40, 2);
  a.mesh_secret = Bytes(32, 3);
  a.bootstrap_certificate = Bytes(310, 4);
  a.udp_port = 51820;
  auto sealed = boot.answer(a);
  ASSERT_TRUE(sealed);
  std::string sealed_text(sealed->begin(), sealed->end());
  EXPECT_EQ(sealed_text.find(std::string(32, '\3')), std::string::npos) << "the mesh secret travels encrypted";
  auto opened = joiner.read_answer(*sealed);
  ASSERT_TRUE(opened) << opened.message();
  EXPECT_EQ(opened->status, JoinStatus::kOk);
  EXPECT_EQ(opened->mesh_secret, Bytes(32, 3));
  EXPECT_EQ(opened->certificate, a.certificate);
  EXPECT_EQ(opened->udp_port, 51820);
}

TEST(JoinExchange, AWrongSecretFailsAtTheChallengeAndProvesNothing) {
  Pair p;
  InviteToken altered = p.token;
  altered.secret[7] ^= 1;
  JoinerHandshake joiner(altered, p.node, p.e1.span());
  BootstrapHandshake boot(p.boot);
  auto hello = joiner.hello();
  ASSERT_TRUE(hello && boot.read_hello(*hello));
  auto challenge = boot.challenge(p.token.secret.span(), p.e2.span());
  ASSERT_TRUE(challenge);
  EXPECT_FALSE(joiner.read_challenge(*challenge));
  // A joiner that carries on anyway cannot make a request the bootstrap
  // node accepts: its keys differ.
  JoinerHandshake liar(altered, p.node, p.e1.span());
  BootstrapHandshake boot2(p.boot);
  auto hello2 = liar.hello();
  ASSERT_TRUE(boot2.read_hello(*hello2));
  ASSERT_TRUE(boot2.challenge(p.token.secret.span(), p.e2.span()));
  EXPECT_FALSE(liar.request({}));  // no keys without a challenge read
  Bytes forged = {kRequest};
  forged.resize(1 + 33 + 16, 0x55);
  EXPECT_FALSE(boot2.read_request(forged));
  EXPECT_FALSE(boot2.answer(JoinAnswer{}));
}

TEST(JoinExchange, AHelloForAnotherKeyIsRefused) {
  Pair p;
  JoinerHandshake joiner(p.token, p.node, p.e1.span());
  BootstrapHandshake other(x25519_generate());
  auto hello = joiner.hello();
  EXPECT_FALSE(other.read_hello(*hello));
  Bytes junk = {kHello, 1, 2, 3};
  BootstrapHandshake boot(p.boot);
  EXPECT_FALSE(boot.read_hello(junk));
}

TEST(JoinExchange, RefusalsCarryOneLine) {
  JoinAnswer a;
  a.status = JoinStatus::kUsed;
  a.message = "invite 11111111 (laptop) was already used";
  auto back = decode_answer(encode_answer(a));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, JoinStatus::kUsed);
  EXPECT_EQ(back->message, a.message);
  EXPECT_FALSE(decode_answer(Bytes{}));
  EXPECT_FALSE(decode_answer(Bytes{9}));
  EXPECT_FALSE(decode_answer(Bytes{2, 0, 1, '\n'}));  // not printable
  EXPECT_FALSE(decode_answer(Bytes{0, 0, 1}));        // ok but truncated
}

class InviteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("zeqvpn-invites-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto db = Database::open((dir_ / "state.db").string());
    ASSERT_TRUE(db) << db.message();
    ASSERT_TRUE(migrate(*db));
    db_ = std::make_unique<Database>(std::move(db.value()));
    std::array<uint8_t, 32> k{};
    random_fill(k);
    auto vault = Vault::open(*db_, SecretBuffer(k), 1000);
    ASSERT_TRUE(vault) << vault.message();
    vault_ = std::make_unique<Vault>(std::move(vault.value()));
    store_ = std::make_unique<InviteStore>(*db_, *vault_);
  }
  void TearDown() override {
    store_.reset();
    vault_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string add(const std::string& name, uint64_t expires_z = 1000) {
    InviteRow r;
    std::array<uint8_t, 16> id{};
    random_fill(id);
    r.id = to_hex(id);
    r.name = name;
    r.created_z = 10;
    r.expires_z = expires_z;
    Bytes secret(32, 9);
    EXPECT_TRUE(store_->create(r, secret, 10));
    return r.id;
  }
  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Vault> vault_;
  std::unique_ptr<InviteStore> store_;
  IpPrefix net_ = *parse_ip_prefix("10.77.0.0/16");
};

TEST_F(InviteStoreTest, AnInviteIsUsedOnceAndTheSecretIsSealed) {
  std::string id = add("laptop");
  auto s = store_->secret(id, 11);
  ASSERT_TRUE(s);
  EXPECT_EQ(Bytes(s->span().begin(), s->span().end()), Bytes(32, 9));
  ASSERT_TRUE(store_->reserve_address(*parse_ip_prefix("10.77.0.1/16"), "zeq-000000000001", "boot", 10));
  auto first = store_->use(id, "zeq-000000000002", net_, 20);
  ASSERT_TRUE(first) << first.message();
  EXPECT_EQ(first->outcome, InviteUse::kOk);
  EXPECT_EQ(first->row.address, "10.77.0.2/16");
  auto again = store_->use(id, "zeq-000000000003", net_, 21);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->outcome, InviteUse::kUsed);
  auto row = store_->find(id);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->state, "used");
  EXPECT_EQ((*row)->used_by_zid, "zeq-000000000002");
  EXPECT_FALSE(store_->revoke(id, 22)) << "a used invite cannot be revoked";
}

TEST_F(InviteStoreTest, ExpiredRevokedAndUnknownAreRefused) {
  std::string old = add("old", 15);
  auto u = store_->use(old, "zeq-000000000002", net_, 16);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->outcome, InviteUse::kExpired);
  std::string gone = add("gone");
  auto r = store_->revoke("gone", 12);
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->id, gone);
  u = store_->use(gone, "zeq-000000000002", net_, 13);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->outcome, InviteUse::kRevoked);
  u = store_->use(std::string(32, 'f'), "zeq-000000000002", net_, 13);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->outcome, InviteUse::kUnknown);
  auto none = store_->revoke("nobody", 12);
  ASSERT_FALSE(none);
  EXPECT_NE(none.message().find("mesh invites"), std::string::npos) << none.message();
}

TEST_F(InviteStoreTest, AddressesNeverCollideAndRunOut) {
  IpPrefix small = *parse_ip_prefix("10.9.0.0/29");  // hosts .1 to .6
  ASSERT_TRUE(store_->reserve_address(*parse_ip_prefix("10.9.0.1/29"), "zeq-000000000001", "boot", 10));
  std::set<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    auto u = store_->use(add("n" + std::to_string(i)), "zeq-00000000001" + std::to_string(i), small, 11);
    ASSERT_TRUE(u);
    ASSERT_EQ(u->outcome, InviteUse::kOk);
    EXPECT_TRUE(seen.insert(u->row.address).second) << u->row.address;
  }
  EXPECT_EQ(seen.count("10.9.0.1/29"), 0u);
  EXPECT_EQ(seen.count("10.9.0.7/29"), 0u) << "not the broadcast address";
  auto full = store_->use(add("late"), "zeq-000000000099", small, 11);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->outcome, InviteUse::kNoAddress);
  auto row = store_->find(full->row.id);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->state, "open") << "a join that got no address leaves the invite open";
}

}  // namespace
}  // namespace zeq
