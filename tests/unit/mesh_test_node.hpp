// Nodes for mesh unit tests, without a daemon:
//  - TestNode: one node's control side (DataPlane, SessionManager) with no
//    threads or sockets; what it sends is recorded.
//  - WorkerNode: one node's data plane on real sockets, without threads: a
//    DataWorker whose TUN is one end of a datagram socketpair (the test
//    writes IP packets into the other end and reads what the node
//    delivers) and whose UDP socket is bound to a free port on loopback;
//    the test drives send_batch/receive_batch and plays the control thread
//    with pump().
//  - VectorIdentities: the shared vectors' two identities and clock.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <vector>

#include "identity/certificate.hpp"
#include "identity/zid.hpp"
#include "mesh/data_worker.hpp"
#include "mesh/session_manager.hpp"
#include "protocol/handshake_messages.hpp"
#include "test_data.hpp"

namespace zeq::test {

inline PeerSettings peer_settings_for(const LocalIdentity& id, const char* endpoint, const char* allowed) {
  PeerSettings p;
  p.zid = id.zid;
  p.public_key = id.keypair.public_key;
  if (endpoint) p.endpoint = parse_udp_endpoint(endpoint);
  p.allowed_ips = {*parse_ip_prefix(allowed)};
  return p;
}

// A certificate for id's keys by `ca`: name "node-" and 4 hex digits of its
// ZID, one address, allowed_ips, valid [not_before_z, not_after_z).
inline Certificate certificate_for(const LocalIdentity& id, const CaPrivateKey& ca, const char* address,
                                   const char* allowed, uint64_t not_before_z, uint64_t not_after_z) {
  CertificateBody b;
  b.name = "node-" + id.zid.substr(4, 4);
  b.zid = id.zid;
  b.x25519_public = id.keypair.public_key;
  b.signing_public = node_signing_keypair(id.keypair.private_key.span()).public_key;
  b.addresses = {*parse_ip_prefix(address)};
  b.allowed_ips = {*parse_ip_prefix(allowed)};
  b.not_before_z = not_before_z;
  b.not_after_z = not_after_z;
  b.issuer = ca.public_key().fingerprint();
  auto cert = sign_certificate(b, ca.key);
  EXPECT_TRUE(cert) << cert.message();
  return cert.value();
}

inline LocalIdentity fresh_identity() {
  LocalIdentity id;
  id.keypair = x25519_generate();
  id.zid = zid_from_public_key(id.keypair.public_key);
  return id;
}

// What workers hand the control thread, kept until the test pumps it.
struct RecordingInbox : ControlInbox {
  bool deliver_handshake(int, ByteSpan message, const UdpEndpoint& from, uint64_t = 0) override {
    handshakes.push_back({Bytes(message.begin(), message.end()), from});
    return true;
  }
  void peer_needs_attention(uint64_t serial) override { attention.push_back(serial); }
  bool deliver_control(int, uint64_t serial, ByteSpan plaintext) override {
    control.push_back({serial, Bytes(plaintext.begin(), plaintext.end())});
    return true;
  }
  // What the handshake guard sees as the control thread's backlog: a test
  // sets it to put the node under load.
  int queued() const override { return depth; }
  int depth = 0;
  std::vector<std::pair<Bytes, UdpEndpoint>> handshakes;
  std::vector<uint64_t> attention;
  std::vector<std::pair<uint64_t, Bytes>> control;
};

struct Sent {
  Bytes bytes;
  UdpEndpoint to;
};

// What both kinds of test node hold: an identity, the mesh secret, a data
// plane with the peers in it, and the inbox the workers report to.
struct NodeBase {
  NodeBase(LocalIdentity id, const std::vector<PeerSettings>& peers, Bytes secret)
      : identity(std::move(id)), mesh(secret), plane(1, DEFAULT_MTU) {
    plane.own_mac1_key = mac1_key_for(identity.keypair.public_key);
    plane.handshake_guard = std::make_unique<HandshakeGuard>(identity.keypair.public_key, random);
    plane.inbox = &inbox;
    for (const auto& p : peers) plane.add_peer(p);
    plane.publish_table();
  }
  LocalIdentity identity;
  SecretBuffer mesh;
  SystemRandom random;
  RecordingInbox inbox;
  DataPlane plane;
  std::unique_ptr<SessionManager> sessions;
};

struct TestNode : NodeBase {
  TestNode(LocalIdentity id, const std::vector<PeerSettings>& peers, Bytes secret, const Clock& clock)
      : NodeBase(std::move(id), peers, std::move(secret)) {
    sessions = std::make_unique<SessionManager>(plane, identity, mesh, clock, random,
                                                [this](ByteSpan m, const UdpEndpoint& to) {
                                                  sent.push_back({Bytes(m.begin(), m.end()), to});
                                                  return true;
                                                });
  }
  ~TestNode() { sessions->shutdown(); }
  std::vector<Sent> sent;
};

class WorkerNode : public NodeBase {
 public:
  WorkerNode(LocalIdentity id, const std::vector<PeerSettings>& peers, Bytes secret)
      : NodeBase(std::move(id), peers, std::move(secret)) {
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, tun_), 0);
    auto sock = UdpSocket::open(0);
    EXPECT_TRUE(sock) << sock.message();
    auto w = DataWorker::create(0, plane, tun_[0], std::move(sock.value()));
    EXPECT_TRUE(w) << w.message();
    worker = std::move(w.value());
    sessions = std::make_unique<SessionManager>(plane, identity, mesh, clock, random,
                                                [this](ByteSpan m, const UdpEndpoint& to) {
                                                  return worker->socket().send_to(m.data(), m.size(), to);
                                                });
  }
  ~WorkerNode() {
    sessions->shutdown();
    worker.reset();
    close(tun_[0]);
    close(tun_[1]);
  }

  // Where the other nodes reach this one.
  UdpEndpoint endpoint() const {
    return *parse_udp_endpoint("127.0.0.1:" + std::to_string(worker->socket().local_port()));
  }
  Peer& peer(size_t i = 0) { return *plane.peers[i]; }

  // The kernel hands the TUN an IP packet; the worker seals and sends it.
  int send_ip(const Bytes& packet) {
    EXPECT_EQ(::write(tun_[1], packet.data(), packet.size()), ssize_t(packet.size()));
    return worker->send_batch();
  }
  // Waits (bounded) for datagrams, then runs one receive batch.
  int receive(int timeout_ms = 1000) {
    pollfd p{worker->socket().fd(), POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return 0;
    return worker->receive_batch();
  }
  // An IP packet the node delivered to its TUN, if any.
  std::optional<Bytes> delivered() {
    Bytes buf(65536);
    ssize_t n = ::read(tun_[1], buf.data(), buf.size());
    if (n <= 0) return std::nullopt;
    buf.resize(size_t(n));
    return buf;
  }
  // Runs what the workers left for the control thread.
  void pump() {
    auto handshakes = std::exchange(inbox.handshakes, {});
    for (const auto& [msg, from] : handshakes) sessions->on_handshake_message(msg, from);
    auto attention = std::exchange(inbox.attention, {});
    for (uint64_t serial : attention)
      if (Peer* p = plane.find_by_serial(serial)) sessions->on_attention(*p);
  }
  uint64_t drops(Drop d) const {
    uint64_t n = 0;
    for (const auto& c : plane.counters) n += c.drops[size_t(d)].load();
    return n;
  }

  SystemClock clock;
  std::unique_ptr<DataWorker> worker;

 private:
  int tun_[2] = {-1, -1};
};

class VectorIdentities : public ::testing::Test {
 protected:
  void SetUp() override {
    v_ = load_json("zeqvpn-vectors.json");
    init_.keypair = x25519_from_private(hex_array<32>(v_["initiator"]["static_private"]));
    init_.zid = v_["initiator"]["zid"];
    resp_.keypair = x25519_from_private(hex_array<32>(v_["responder"]["static_private"]));
    resp_.zid = v_["responder"]["zid"];
    clock_.set_unix_us(v_["unix_time_us"].get<int64_t>());
  }
  nlohmann::json v_;
  LocalIdentity init_, resp_;
  ManualClock clock_{0, 1'000'000'000};
  UdpEndpoint from_ = *parse_udp_endpoint("198.18.0.1:51820");
};

}  // namespace zeq::test
