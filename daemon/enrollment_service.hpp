// The bootstrap side of `zeqvpnctl mesh join` (`enrollment:` in zeqvpn.yaml;
// docs/protocol.md, "Onboarding (mesh join)"). On the node that holds the
// mesh authority it makes invites (`zeqvpnctl mesh invite`: a sealed
// one-time secret and a row in the state database), and serves the join
// exchange over TCP: a joiner proves an invite's secret inside a
// Noise_IKpsk2 handshake with this node's static key; only then is the
// invite used (once, atomically), the next free address of the network
// taken, a certificate signed and sent with the mesh secret, encrypted to
// the joiner. The new node then finds every other node through the mesh
// directory, this node being its first peer.
//
// Runs on the control thread's io_context; every connection is bounded (one
// exchange of four frames within EXCHANGE_TIMEOUT, at most MAX_CONNECTIONS
// at once; when all are taken the source holding the most gives up its
// oldest). Boost.Asio stays in the .cpp file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "crypto/random_source.hpp"
#include "crypto/secret_bytes.hpp"
#include "crypto/x25519.hpp"
#include "identity/certificate.hpp"

namespace boost::asio {
class io_context;
}

namespace zeq {

class Database;
class Vault;

struct TakenAddress {
  IpPrefix address;
  std::string zid;
  std::string name;
};

struct EnrollmentSettings {
  EnrollmentConfig config;
  CaPrivateKey ca;
  X25519Keypair node_key;
  SecretBuffer mesh_secret;
  Certificate own_certificate;
  uint16_t udp_port = 0;       // this node's tunnel port, for the joiner's peer entry
  std::string interface_name;  // left out of the local addresses tokens name
  // Addresses in use in the mesh that this service did not hand out (nodes
  // with hand-made certificates, YAML peers), asked before each join so the
  // joiner never gets one of them. May be empty.
  std::function<std::vector<TakenAddress>()> addresses_in_use;
};

struct EnrollmentCounters {
  uint64_t connections = 0;
  uint64_t refused_busy = 0;
  uint64_t evicted = 0;       // closed to make room for another source (every slot taken)
  uint64_t bad_hello = 0;     // not a hello for this node's key
  uint64_t proof_failed = 0;  // wrong secret or unknown invite
  uint64_t refused = 0;       // proven, but the invite was used, revoked or expired
  uint64_t enrolled = 0;
  uint64_t timed_out = 0;
};

class EnrollmentService {
 public:
  static constexpr int MAX_CONNECTIONS = 64;
  static constexpr int EXCHANGE_TIMEOUT_S = 10;
  static constexpr size_t MAX_CACHED_SECRETS = 256;

  static Result<std::unique_ptr<EnrollmentService>> start(boost::asio::io_context& io, Database& db, Vault& vault,
                                                          const Clock& clock, RandomSource& random,
                                                          EnrollmentSettings settings);
  ~EnrollmentService();

  // Control commands (docs/control.md): the token and the invite's row;
  // every invite; revoking one by id, id prefix or name.
  Result<nlohmann::json> invite(const std::string& name, const std::string& roles, uint64_t expires_s);
  Result<nlohmann::json> invites();
  Result<nlohmann::json> revoke(const std::string& id_or_name);
  EnrollmentCounters counters() const;
  // Prometheus text: zeqvpn_enrollment_connections_total{outcome=...}.
  std::string metrics() const;
  // Where it listens (the port chosen when listen's port was 0).
  uint16_t port() const;

  struct Impl;

 private:
  explicit EnrollmentService(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace zeq
