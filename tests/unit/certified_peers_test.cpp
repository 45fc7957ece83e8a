// Peers by certificate on the control thread (mesh/certified_peers.cpp,
// docs/protocol.md "Handshake extensions"): two SessionManagers exchange
// real handshakes; A's YAML does not name C, C's names A.
#include <gtest/gtest.h>

#include "core/constants.hpp"
#include "crypto/ed25519.hpp"
#include "identity/certificate.hpp"
#include "mesh/allowed_ips.hpp"
#include "mesh_test_node.hpp"

namespace zeq {
namespace {

using test::fresh_identity;
using test::peer_settings_for;
using test::TestNode;

const Bytes kSecret(32, 0x42);

class CertifiedPeers : public ::testing::Test {
 protected:
  CertifiedPeers() : a_id_(fresh_identity()), c_id_(fresh_identity()) {
    clock_.set_unix_us(1'800'000'000'000'000);
    ca_.key = ed25519_generate();
    ca_.name = "testmesh";
    other_ca_.key = ed25519_generate();
    other_ca_.name = "other";
  }
  uint64_t now_z() const { return clock_.zeqond(); }

  Certificate cert_for(const LocalIdentity& id, const CaPrivateKey& ca, const char* allowed, int64_t from_z = -10,
                       int64_t to_z = 100000) {
    return test::certificate_for(id, ca, "10.77.0.3/24", allowed, uint64_t(int64_t(now_z()) + from_z),
                                 uint64_t(int64_t(now_z()) + to_z));
  }
  // Trust: the CA `ca`, and `own` as this node's certificate.
  std::shared_ptr<const TrustSettings> trust(std::optional<Certificate> own, const RevocationList* revoked = nullptr) {
    auto t = std::make_shared<TrustSettings>();
    t->store.add_ca(ca_.public_key());
    if (revoked) {
      EXPECT_TRUE(t->store.add_revocation_list(*revoked));
    }
    t->own = std::move(own);
    return t;
  }
  // C calls A: C's initiation to A, A's response (if any) back to C.
  void exchange(TestNode& a, TestNode& c) {
    c.sent.clear();
    a.sent.clear();
    c.sessions->start_all();
    ASSERT_EQ(c.sent.size(), 1u);
    a.sessions->on_handshake_message(c.sent[0].bytes, c_from_);
    if (!a.sent.empty()) c.sessions->on_handshake_message(a.sent[0].bytes, a_from_);
  }

  ManualClock clock_{0, 1'000'000'000};
  LocalIdentity a_id_, c_id_;
  CaPrivateKey ca_, other_ca_;
  UdpEndpoint a_from_ = *parse_udp_endpoint("198.18.0.1:51820");
  UdpEndpoint c_from_ = *parse_udp_endpoint("198.19.0.1:51820");
};

TEST_F(CertifiedPeers, UnknownPeerWithAGoodCertificateIsAdmittedWithItsAllowedIps) {
  TestNode a(a_id_, {}, kSecret, clock_);
  TestNode c(c_id_, {peer_settings_for(a_id_, "198.18.0.1:51820", "10.77.0.1/32")}, kSecret, clock_);
  a.sessions->apply_trust(trust(cert_for(a_id_, ca_, "10.77.0.1/32")));
  c.sessions->apply_trust(trust(cert_for(c_id_, ca_, "10.77.0.3/32")));
  int routes_changed = 0;
  a.sessions->set_routes_changed_hook([&] { ++routes_changed; });
  exchange(a, c);
  ASSERT_EQ(a.plane.peers.size(), 1u);
  Peer& peer = *a.plane.peers[0];
  EXPECT_TRUE(peer.certified_only);
  EXPECT_EQ(peer.key.zid, c_id_.zid);
  EXPECT_EQ(peer.effective_allowed_ips(), std::vector<IpPrefix>{*parse_ip_prefix("10.77.0.3/32")});
  EXPECT_EQ(peer.endpoint.load(), c_from_);
  EXPECT_EQ(routes_changed, 1);
  // The initiation carried extensions; A answered with its own certificate,
  // which C checked and keeps.
  EXPECT_GT(c.sent[0].bytes.size(), wire::INIT_SIZE);
  EXPECT_GT(a.sent[0].bytes.size(), wire::RESPONSE_SIZE);
  EXPECT_EQ(c.sessions->handshakes_completed(), 1u);
  ASSERT_TRUE(c.plane.peers[0]->certificate);
  EXPECT_EQ(c.plane.peers[0]->certificate->body.zid, a_id_.zid);
  // The source check uses the certificate: 10.77.0.3 is C's, 10.77.0.99 no one's.
  const PeerTable& table = *a.plane.table();
  uint8_t own[4] = {10, 77, 0, 3}, other[4] = {10, 77, 0, 99};
  EXPECT_EQ(table.lookup(4, own), &peer);
  EXPECT_EQ(table.lookup(4, other), nullptr);
}

TEST_F(CertifiedPeers, EachBadCertificateIsRefusedForItsReason) {
  struct Case {
    const char* what;
    HandshakeReject reason;
    std::function<Certificate()> make;
  } cases[] = {
      {"another CA", HandshakeReject::kCertUnknownIssuer, [&] { return cert_for(c_id_, other_ca_, "10.77.0.3/32"); }},
      {"expired", HandshakeReject::kCertExpired, [&] { return cert_for(c_id_, ca_, "10.77.0.3/32", -100, -1); }},
      {"not yet valid", HandshakeReject::kCertNotYetValid, [&] { return cert_for(c_id_, ca_, "10.77.0.3/32", 5, 100); }},
      {"another node's key", HandshakeReject::kCertKeyMismatch,
       [&] { return cert_for(fresh_identity(), ca_, "10.77.0.3/32"); }},
  };
  for (const auto& k : cases) {
    TestNode a(a_id_, {}, kSecret, clock_);
    TestNode c(c_id_, {peer_settings_for(a_id_, "198.18.0.1:51820", "10.77.0.1/32")}, kSecret, clock_);
    a.sessions->apply_trust(trust(std::nullopt));
    c.sessions->apply_trust(trust(k.make()));
    exchange(a, c);
    EXPECT_EQ(a.sessions->rejects(k.reason), 1u) << k.what;
    EXPECT_TRUE(a.plane.peers.empty()) << k.what;
    EXPECT_TRUE(a.sent.empty()) << k.what;
  }
}

TEST_F(CertifiedPeers, WithoutACaOfItsOwnANodeAdmitsNoStranger) {
  TestNode a(a_id_, {}, kSecret, clock_);
  TestNode c(c_id_, {peer_settings_for(a_id_, "198.18.0.1:51820", "10.77.0.1/32")}, kSecret, clock_);
  c.sessions->apply_trust(trust(cert_for(c_id_, ca_, "10.77.0.3/32")));
  exchange(a, c);
  EXPECT_EQ(a.sessions->rejects(HandshakeReject::kUnknownPeer), 1u);
  EXPECT_TRUE(a.plane.peers.empty());
}

TEST_F(CertifiedPeers, RevocationAndExpiryCutTheTunnelAtOnce) {
  TestNode a(a_id_, {}, kSecret, clock_);
  TestNode c(c_id_, {peer_settings_for(a_id_, "198.18.0.1:51820", "10.77.0.1/32")}, kSecret, clock_);
  const Certificate c_cert = cert_for(c_id_, ca_, "10.77.0.3/32", -10, 50);
  a.sessions->apply_trust(trust(std::nullopt));
  c.sessions->apply_trust(trust(c_cert));
  int routes_changed = 0;
  a.sessions->set_routes_changed_hook([&] { ++routes_changed; });
  exchange(a, c);
  ASSERT_EQ(a.plane.peers.size(), 1u);

  RevocationList list;
  list.issuer = ca_.public_key().fingerprint();
  list.serial = 1;
  list.issued_z = now_z();
  list.certificates = {c_cert.fingerprint()};
  auto signed_list = sign_revocation_list(list, ca_.key);
  ASSERT_TRUE(signed_list) << signed_list.message();
  a.sessions->apply_trust(trust(std::nullopt, &signed_list.value()));
  EXPECT_TRUE(a.plane.peers.empty());
  EXPECT_EQ(a.sessions->certificate_cuts(HandshakeReject::kCertRevoked), 1u);
  EXPECT_EQ(routes_changed, 2);  // admitted, then forgotten
  // And C's next handshake is refused.
  clock_.advance_us(TAU_ZQ_US);
  exchange(a, c);
  EXPECT_EQ(a.sessions->rejects(HandshakeReject::kCertRevoked), 1u);
  EXPECT_TRUE(a.plane.peers.empty());

  // Expiry: admitted again under the old trust, then time passes not_after.
  a.sessions->apply_trust(trust(std::nullopt));
  clock_.advance_us(6 * TAU_ZQ_US);  // C's unanswered initiation is due for a retry
  exchange(a, c);
  ASSERT_EQ(a.plane.peers.size(), 1u);
  clock_.advance_us(47 * TAU_ZQ_US);
  a.sessions->tick();
  EXPECT_TRUE(a.plane.peers.empty());
  EXPECT_EQ(a.sessions->certificate_cuts(HandshakeReject::kCertExpired), 1u);
}

// A YAML peer that sends a certificate must send a good one, and the
// certificate narrows (never widens) what the YAML gives it. A reload that
// does not name a certified-only peer keeps it.
TEST_F(CertifiedPeers, CertificateNarrowsAYamlPeerAndReloadKeepsCertifiedOnes) {
  TestNode a(a_id_, {peer_settings_for(c_id_, nullptr, "10.77.0.0/24")}, kSecret, clock_);
  TestNode c(c_id_, {peer_settings_for(a_id_, "198.18.0.1:51820", "10.77.0.1/32")}, kSecret, clock_);
  a.sessions->apply_trust(trust(std::nullopt));
  c.sessions->apply_trust(trust(cert_for(c_id_, ca_, "10.77.0.3/32")));
  exchange(a, c);
  ASSERT_EQ(a.plane.peers.size(), 1u);
  EXPECT_FALSE(a.plane.peers[0]->certified_only);
  EXPECT_EQ(a.plane.peers[0]->effective_allowed_ips(), std::vector<IpPrefix>{*parse_ip_prefix("10.77.0.3/32")});

  TestNode a2(a_id_, {}, kSecret, clock_);
  a2.sessions->apply_trust(trust(std::nullopt));
  clock_.advance_us(TAU_ZQ_US);
  exchange(a2, c);
  ASSERT_EQ(a2.plane.peers.size(), 1u);
  auto change = a2.sessions->apply_peers({});
  EXPECT_TRUE(change.removed.empty());
  EXPECT_EQ(a2.plane.peers.size(), 1u);
}

TEST_F(CertifiedPeers, NoCertificateMeansV1Bytes) {
  TestNode a(a_id_, {peer_settings_for(c_id_, nullptr, "10.77.0.3/32")}, kSecret, clock_);
  TestNode c(c_id_, {peer_settings_for(a_id_, "198.18.0.1:51820", "10.77.0.1/32")}, kSecret, clock_);
  a.sessions->apply_trust(trust(cert_for(a_id_, ca_, "10.77.0.1/32")));  // A has one, C does not
  exchange(a, c);
  EXPECT_EQ(c.sent[0].bytes.size(), wire::INIT_SIZE);
  ASSERT_EQ(a.sent.size(), 1u);
  EXPECT_EQ(a.sent[0].bytes.size(), wire::RESPONSE_SIZE);  // a v1 initiator gets a v1 response
  EXPECT_EQ(c.sessions->handshakes_completed(), 1u);
  // send_certificate: false keeps a node with a certificate on v1 too.
  PeerSettings quiet = peer_settings_for(a_id_, "198.18.0.1:51820", "10.77.0.1/32");
  quiet.send_certificate = false;
  TestNode c2(c_id_, {quiet}, kSecret, clock_);
  c2.sessions->apply_trust(trust(cert_for(c_id_, ca_, "10.77.0.3/32")));
  c2.sessions->start_all();
  ASSERT_EQ(c2.sent.size(), 1u);
  EXPECT_EQ(c2.sent[0].bytes.size(), wire::INIT_SIZE);
}

// Review findings: a certificate never displaces a YAML peer (same ZID,
// same or narrower prefix, default route); an initiation replayed after the
// drift window admits nothing; a YAML peer that proved a certificate cannot
// fall back to v1; a stranger that never confirms a key is forgotten.
TEST_F(CertifiedPeers, ACertificateNeverDisplacesTheYaml) {
  LocalIdentity b_id = fresh_identity();
  TestNode a(a_id_, {peer_settings_for(b_id, nullptr, "10.77.0.0/28")}, kSecret, clock_);
  a.sessions->apply_trust(trust(std::nullopt));
  // C's certificate claims part of B's range, the default route and its own address.
  Certificate greedy = cert_for(c_id_, ca_, "10.77.0.2/32");
  {
    CertificateBody body = greedy.body;
    body.allowed_ips = {*parse_ip_prefix("10.77.0.2/32"), *parse_ip_prefix("0.0.0.0/0"), *parse_ip_prefix("10.77.0.40/32")};
    greedy = sign_certificate(body, ca_.key).value();
  }
  TestNode c(c_id_, {peer_settings_for(a_id_, "198.18.0.1:51820", "10.77.0.1/32")}, kSecret, clock_);
  c.sessions->apply_trust(trust(greedy));
  exchange(a, c);
  ASSERT_EQ(a.plane.peers.size(), 2u);
  Peer& cert_peer = *a.plane.peers[1];
  EXPECT_EQ(a.plane.routable_prefixes(cert_peer), std::vector<IpPrefix>{*parse_ip_prefix("10.77.0.40/32")});
  uint8_t b_addr[4] = {10, 77, 0, 2}, elsewhere[4] = {192, 0, 2, 1};
  EXPECT_EQ(a.plane.table()->lookup(4, b_addr), a.plane.peers[0].get());
  EXPECT_EQ(a.plane.table()->lookup(4, elsewhere), nullptr);

  // A certificate for another key that names B's ZID is refused.
  TestNode a2(a_id_, {peer_settings_for(b_id, nullptr, "10.77.0.0/28")}, kSecret, clock_);
  a2.sessions->apply_trust(trust(std::nullopt));
  LocalIdentity impostor = fresh_identity();
  impostor.zid = b_id.zid;
  TestNode i(impostor, {peer_settings_for(a_id_, "198.18.0.1:51820", "10.77.0.1/32")}, kSecret, clock_);
  i.sessions->apply_trust(trust(cert_for(impostor, ca_, "10.77.0.9/32")));
  exchange(a2, i);
  EXPECT_EQ(a2.sessions->rejects(HandshakeReject::kKeyMismatch), 1u);
  EXPECT_EQ(a2.plane.peers.size(), 1u);
}

TEST_F(CertifiedPeers, AReplayedInitiationAdmitsNothing) {
  TestNode a(a_id_, {}, kSecret, clock_);
  TestNode c(c_id_, {peer_settings_for(a_id_, "198.18.0.1:51820", "10.77.0.1/32")}, kSecret, clock_);
  a.sessions->apply_trust(trust(std::nullopt));
  c.sessions->apply_trust(trust(cert_for(c_id_, ca_, "10.77.0.3/32", -10, 100000)));
  c.sessions->start_all();
  ASSERT_EQ(c.sent.size(), 1u);
  clock_.advance_us(3 * TAU_ZQ_US);  // past the drift tolerance
  a.sessions->on_handshake_message(c.sent[0].bytes, c_from_);
  EXPECT_EQ(a.sessions->rejects(HandshakeReject::kClockDrift), 1u);
  EXPECT_TRUE(a.plane.peers.empty());
}

TEST_F(CertifiedPeers, AYamlPeerThatProvedACertificateCannotFallBackToV1) {
  TestNode a(a_id_, {peer_settings_for(c_id_, nullptr, "10.77.0.0/24")}, kSecret, clock_);
  a.sessions->apply_trust(trust(std::nullopt));
  {
    TestNode c(c_id_, {peer_settings_for(a_id_, "198.18.0.1:51820", "10.77.0.1/32")}, kSecret, clock_);
    c.sessions->apply_trust(trust(cert_for(c_id_, ca_, "10.77.0.3/32")));
    exchange(a, c);
    EXPECT_TRUE(a.plane.peers[0]->requires_certificate);
  }
  clock_.advance_us(TAU_ZQ_US);
  TestNode v1(c_id_, {peer_settings_for(a_id_, "198.18.0.1:51820", "10.77.0.1/32")}, kSecret, clock_);
  exchange(a, v1);
  EXPECT_EQ(a.sessions->rejects(HandshakeReject::kCertMissing), 1u);
  EXPECT_TRUE(a.sent.empty());
  // A reload that drops mesh.ca leaves the YAML's trust alone: v1 works again.
  a.sessions->apply_trust(nullptr);
  clock_.advance_us(6 * TAU_ZQ_US);
  exchange(a, v1);
  EXPECT_EQ(a.sessions->rejects(HandshakeReject::kCertMissing), 1u);
  EXPECT_EQ(a.sent.size(), 1u);
}

TEST_F(CertifiedPeers, AStrangerThatNeverConfirmsIsForgotten) {
  TestNode a(a_id_, {}, kSecret, clock_);
  TestNode c(c_id_, {peer_settings_for(a_id_, "198.18.0.1:51820", "10.77.0.1/32")}, kSecret, clock_);
  a.sessions->apply_trust(trust(std::nullopt));
  c.sessions->apply_trust(trust(cert_for(c_id_, ca_, "10.77.0.3/32", -10, 100000)));
  c.sessions->start_all();
  a.sessions->on_handshake_message(c.sent[0].bytes, c_from_);  // answered, never confirmed
  ASSERT_EQ(a.plane.peers.size(), 1u);
  for (int z = 0; z < 2 * int(REJECT_AFTER_Z); ++z) {
    clock_.advance_us(TAU_ZQ_US);
    a.sessions->tick();
  }
  EXPECT_TRUE(a.plane.peers.empty());
}

TEST(IntersectPrefixes, NarrowsNeverWidens) {
  auto p = [](const char* s) { return *parse_ip_prefix(s); };
  EXPECT_EQ(intersect_prefixes({p("10.0.0.0/8")}, {p("10.1.0.0/16")}), std::vector<IpPrefix>{p("10.1.0.0/16")});
  EXPECT_EQ(intersect_prefixes({p("10.1.0.0/16")}, {p("10.0.0.0/8")}), std::vector<IpPrefix>{p("10.1.0.0/16")});
  EXPECT_TRUE(intersect_prefixes({p("10.1.0.0/16")}, {p("10.2.0.0/16")}).empty());
  EXPECT_TRUE(intersect_prefixes({p("10.1.0.0/16")}, {p("fd00::/8")}).empty());
  EXPECT_EQ(intersect_prefixes({p("0.0.0.0/0"), p("::/0")}, {p("10.77.0.3/32"), p("fd77::3/128")}).size(), 2u);
}

}  // namespace
}  // namespace zeq
