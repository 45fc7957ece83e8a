// The mesh directory of a running daemon: the records this node holds
// (directory/record_store.hpp), its own record, the gossip with every peer it
// has a tunnel to (directory/gossip.hpp, through in-tunnel control messages
// the node hands over), the state database's copy (store/directory_cache.hpp)
// and the peers the records vouch for, handed to the node
// (Node::learn_peers). Revocation lists that arrive as records join the
// trust the node applies. Control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "crypto/ed25519.hpp"
#include "directory/gossip.hpp"
#include "directory/plat_chain.hpp"
#include "directory/record_store.hpp"
#include "loader/loader.hpp"
#include "mesh/mesh_trust.hpp"
#include "mesh/node.hpp"
#include "mesh/tunnel_events.hpp"
#include "store/directory_cache.hpp"

namespace zeq {

class EtcdDirectory;

// A node republishes its record this often even when nothing changed, well
// within RECORD_MAX_AGE_Z, so its record never ages out while it runs.
inline constexpr uint64_t DIRECTORY_REPUBLISH_EVERY_Z = RECORD_MAX_AGE_Z / 8;
// A record newer than this is pushed to every gossip peer at once (a change);
// older ones spread by digest rounds.
inline constexpr uint64_t DIRECTORY_PUSH_FRESH_Z = 8;
// Refused records logged one by one per Zeqond; the rest are counted in one line.
inline constexpr uint64_t DIRECTORY_REFUSALS_LOGGED_PER_Z = 5;

struct MeshDirectorySettings {
  DirectoryConfig config;
  uint16_t listen_port = 0;
  std::string interface_name;  // the TUN: its addresses are not endpoints
  std::optional<SyncCredentials> sync;
  std::optional<SecretBuffer> etcd_password;
  // role: relay: the offer its record carries (relay/, docs/protocol.md
  // "Directory records"); none on a node.
  struct RelayOffer {
    PricingUnit unit = PricingUnit::kGb;
    uint64_t price = 0;
    std::string region;
  };
  std::optional<RelayOffer> relay_offer;
};

class MeshDirectory final : public TunnelEvents, public Node::ControlListener {
 public:
  // `signing` is the node's Ed25519 key (node_signing_keypair), which its
  // certificate names; `own_zid` the node's ZID.
  static Result<std::unique_ptr<MeshDirectory>> create(Node& node, Database& db, const Clock& clock,
                                                       MeshDirectorySettings settings, Ed25519Keypair signing,
                                                       std::string own_zid);
  ~MeshDirectory() override;

  // The trust the node should apply: the files' (mesh.ca, mesh.revocations,
  // mesh.certificate) with every newer revocation list held from the
  // directory. Call at start and at each reload, before the node gets it.
  std::shared_ptr<const TrustSettings> merge_trust(std::shared_ptr<const TrustSettings> files);
  // After the node runs with merge_trust's result: loads the cache (first
  // call), offers the files' revocation lists as records, drops what no
  // longer passes, teaches the node the peers and publishes this node's record.
  void start();
  void reloaded(const DirectoryConfig& config);
  // TICKS_PER_ZEQOND times per Zeqond: gossip ticks; once per Zeqond expiry,
  // own record, cache writes.
  void tick();

  // TunnelEvents (gossip runs with peers whose tunnel is up).
  void tunnel_up(Peer& peer) override;
  void tunnel_down(Peer& peer, const char* reason) override;
  // Node::ControlListener: directory messages from a peer.
  void control_message(Peer& peer, ByteSpan plaintext) override;

  // `zeqvpnctl directory`: records held (age, source, verification), sync
  // state per gossip peer, counters.
  nlohmann::json report() const;
  // A clean stop: the etcd backend withdraws this node's record (its lease
  // revoked) and stops its thread. Call before the node's event loop goes.
  void stop();
  // Prometheus text: records, sync rounds, rejects by reason, PLAT verdicts.
  std::string metrics() const;
  // NAT traversal: the endpoints others see this node at (published with
  // the "reported" flag after its own), and a new record at once when they
  // or the local addresses changed.
  void set_reported_endpoints(std::function<std::vector<UdpEndpoint>()> reported) { reported_ = std::move(reported); }
  void republish_now();

 private:
  struct GossipLink {
    std::unique_ptr<GossipPeer> gossip;
    uint64_t serial = 0;
    bool up = false;
    bool anchor = false;        // a YAML peer: always gossiped with
    uint64_t heard_z = 0;       // the last Zeqond it sent a directory message
    uint64_t messages_unsent = 0;
  };

  MeshDirectory(Node& node, Database& db, const Clock& clock, MeshDirectorySettings settings, Ed25519Keypair signing,
                std::string own_zid);
  // What came of records offered (gossip, cache, etcd): peers to the node,
  // rows to the cache, trust to the node when a list arrived.
  void absorb(const std::vector<std::string>& accepted, const std::vector<std::string>& dropped);
  // Hands the peers accepted since the last call to the node in one batch
  // (a peer table and route set rebuilt per batch, not per message: a
  // 10 000-record sync would otherwise cost O(n^2)).
  void learn_pending();
  void trust_changed_if_lists_did();
  // Queues every held revocation list to every gossip peer (a new one spreads at once).
  void push_lists();
  void publish_own(uint64_t now_z);
  void publish_failed(const std::string& why);
  void once_per_zeqond(uint64_t now_z);
  void flush_cache();
  void log_refused(const std::string& from, const OfferOutcome& outcome);
  std::optional<KnownPeer> known_peer(const std::string& zid) const;
  // etcd (on the control thread, posted by the backend's thread).
  Status start_etcd();
  void etcd_snapshot(std::vector<std::pair<std::string, Bytes>> all);
  void etcd_put(const std::string& name, const Bytes& value, std::vector<std::string>& accepted,
                std::vector<std::string>& dropped);
  void etcd_deleted(const std::string& name);
  void etcd_publish_lists();
  bool gossiping() const { return settings_.config.backend == DirectoryBackend::kEmbedded; }
  std::vector<UdpEndpoint> own_endpoints() const;

  Node& node_;
  DirectoryCache cache_;
  const Clock& clock_;
  MeshDirectorySettings settings_;
  Ed25519Keypair signing_;
  std::string own_zid_;
  std::shared_ptr<const TrustSettings> files_;
  TrustStore trust_;  // the files' CAs and lists, and the lists the directory brought
  RecordStore store_;
  mutable DigestHashCache digest_;  // a cache: report() may fill it
  std::optional<SyncSecret> sync_;
  PlatReceiver plats_;
  std::map<std::string, GossipLink, std::less<>> links_;  // by peer ZID
  std::vector<std::pair<Digest32, uint64_t>> lists_seen_;
  std::set<std::string, std::less<>> dirty_, removed_, to_learn_;
  uint64_t refused_logged_z_ = 0, refused_logged_ = 0, refused_unlogged_ = 0;
  bool lists_dirty_ = false;
  bool started_ = false;
  uint64_t last_z_ = 0;
  uint64_t ticks_ = 0;
  uint64_t published_ = 0, publish_failures_ = 0;
  std::vector<UdpEndpoint> published_endpoints_;
  std::vector<UdpEndpoint> published_reported_;
  std::function<std::vector<UdpEndpoint>()> reported_;
  Bytes last_signed_;  // this process's latest own record
  std::string last_publish_failure_;
  uint64_t cache_writes_ = 0, cache_failures_ = 0, cache_loaded_ = 0;
  uint64_t plat_flags_logged_z_ = 0;
  std::unique_ptr<EtcdDirectory> etcd_;
  std::map<std::string, std::string, std::less<>> etcd_names_;  // etcd key name -> the ZID its record held
  bool etcd_connected_ = false;
  uint64_t etcd_misplaced_ = 0;  // node records under another node's key
  std::string etcd_why_;
};

}  // namespace zeq
