// Nodes for the directory's unit tests: the vectors' CA, a node with fresh
// keys and a certificate from a CA, and its signed record.
#pragma once

#include <cstdint>

#include "crypto/ed25519.hpp"
#include "crypto/x25519.hpp"
#include "identity/certificate.hpp"
#include "identity/zid.hpp"
#include "protocol/directory_record.hpp"
#include "test_data.hpp"

namespace zeq::test {

// The Zeqond the directory tests call now.
inline constexpr uint64_t DIRECTORY_NOW = 500'000;

// tests/data/record-vectors.json and cert-vectors.json, read once.
inline const nlohmann::json& records() {
  static const nlohmann::json v = load_json("record-vectors.json");
  return v;
}
inline const nlohmann::json& certs() {
  static const nlohmann::json v = load_json("cert-vectors.json");
  return v;
}

// The CA of tests/data/cert-vectors.json.
inline Ed25519Keypair vector_ca() { return ed25519_from_seed(hex_array<32>(certs()["ca"]["seed"])); }

// A node of the tests: its keys and a certificate from `ca`.
struct DirectoryNode {
  X25519Keypair x25519;
  Ed25519Keypair signing;
  Certificate cert;
  const std::string& zid() const { return cert.body.zid; }
};

inline DirectoryNode make_node(const Ed25519Keypair& ca, uint64_t not_before = 1000, uint64_t not_after = 1'000'000) {
  DirectoryNode n;
  n.x25519 = x25519_generate();
  n.signing = node_signing_keypair(n.x25519.private_key.span());
  CertificateBody b;
  b.zid = zid_from_public_key(n.x25519.public_key);
  b.name = "node-" + b.zid.substr(4);
  b.x25519_public = n.x25519.public_key;
  b.signing_public = n.signing.public_key;
  b.addresses = {parse_ip_prefix("10.77.0.1/24").value()};
  b.not_before_z = not_before;
  b.not_after_z = not_after;
  n.cert = sign_certificate(b, ca).value();
  return n;
}

// The node's record: one endpoint 192.0.2.1:port.
inline NodeRecord node_record(const Certificate& cert, uint64_t sequence, uint64_t made_z, uint16_t port = 51820) {
  NodeRecord r;
  r.certificate = cert;
  RecordEndpoint e;
  e.address = {192, 0, 2, 1};
  e.port = port;
  r.endpoints = {e};
  r.sequence = sequence;
  r.made_z = made_z;
  return r;
}

inline Bytes record_of(const DirectoryNode& n, uint64_t sequence, uint64_t made_z = DIRECTORY_NOW,
                       uint16_t port = 51820) {
  return sign_node_record(node_record(n.cert, sequence, made_z, port), n.signing).value().encoded;
}

}  // namespace zeq::test
