// The node's YAML configuration, parsed into a typed and validated Config
// (enums from core/modes.hpp, parsed addresses; nothing is re-parsed later).
// Every error names the file, line, column and field, says what was found and
// what is expected. Pure: the caller hands over the text (loader/ reads the
// file). No secrets live in the file (see secrets.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/modes.hpp"
#include "core/net_address.hpp"
#include "core/result.hpp"
#include "crypto/x25519.hpp"

namespace zeq {

struct PeerConfig {
  std::string name;                   // optional label for logs
  std::string zid;                    // derived from public_key when omitted
  PublicKey public_key{};
  std::optional<UdpEndpoint> endpoint;
  // Or a host name (RFC 1123) and port, resolved by the node outside the
  // tunnel; endpoint stays empty then. Empty: none.
  std::string endpoint_host;
  uint16_t endpoint_port = 0;
  std::vector<IpPrefix> allowed_ips;
  int persistent_keepalive_s = 0;     // 0 = off
  std::optional<CoverMode> cover;     // nullopt: the node's
  std::optional<PaddingPolicy> padding;  // nullopt: the node's
  bool send_certificate = true;       // false: PROTOCOL.md v1 handshakes only (mesh.certificate not sent)
  PricingUnit billing_unit = PricingUnit::kGb;  // store/billing.hpp
  uint64_t billing_price = 0;         // integer price per unit
  // How packets reach the peer (`via:`): kAuto tries directly and falls back
  // to a relay after relay_choice.direct_attempts unanswered handshakes;
  // kRelay always goes through a relay; kDirect never does.
  PeerPath via = PeerPath::kAuto;

  bool operator==(const PeerConfig&) const = default;
};

// The relay role's limits (`relay.limits`), per client (a member with pairs
// open) and per pair. Over a limit, messages are dropped and counted.
struct RelayLimitsConfig {
  uint64_t client_bytes_per_s = 12'500'000;   // 100 Mbit/s
  uint64_t pair_bytes_per_s = 12'500'000;
  uint32_t pairs_per_client = 16;
  // What a client may send above its rate in one burst (its token bucket's
  // depth): the relay queues nothing, so this is all it holds for anyone.
  uint64_t queued_bytes_per_client = 1'048'576;
  bool operator==(const RelayLimitsConfig&) const = default;
};

// `relay:` — the serving side, used with `role: relay`.
struct RelayRoleConfig {
  // What the relay writes about the pairs it carries (relay/metadata_log.hpp):
  // nothing (off), or one summary line per pair when it ends (ZIDs and
  // addresses of both ends, start/stop Zeqonds, byte counts), kept for
  // metadata_retention_z Zeqonds.
  RelayMetadataLog metadata_log = RelayMetadataLog::kOff;
  std::string metadata_log_file = "/var/log/zeqvpn/relay-metadata.log";
  uint64_t metadata_retention_z = 111'198;  // about a day
  // The price it advertises (`price: {per_gb: N}` or `{per_zeqond: N}`).
  PricingUnit price_unit = PricingUnit::kGb;
  uint64_t price = 0;
  std::string region;                        // a label: [A-Za-z0-9._-]{0,32}
  RelayLimitsConfig limits;
  // Relay over TCP (docs/protocol.md): where members whose UDP is blocked
  // connect (`tcp_listen: "[::]:443"`, the default; a port alone means
  // [::]:PORT); nullopt: `off`.
  std::optional<UdpEndpoint> tcp_listen = default_relay_tcp_listen();
  static std::optional<UdpEndpoint> default_relay_tcp_listen() { return parse_udp_endpoint("[::]:443"); }
  bool operator==(const RelayRoleConfig&) const = default;
};

// An entry of `relays:` — a relay this node may reach peers through. It is
// kept as a tunnel peer of its own without routes (allowed_ips empty).
struct RelayConfig {
  std::string name;
  std::string zid;                    // derived from public_key when omitted
  PublicKey public_key{};
  std::optional<UdpEndpoint> endpoint;
  std::string endpoint_host;          // or a host name and port
  uint16_t endpoint_port = 0;
  bool operator==(const RelayConfig&) const = default;
};

// `relay_choice:` — how this node picks a relay.
struct RelayChoiceConfig {
  // Relays priced above this (in their own unit) are not used; nullopt: any.
  std::optional<uint64_t> max_price;
  // Unanswered direct handshakes before a `via: auto` peer goes through a
  // relay (each HANDSHAKE_RETRY apart; the first is sent at once).
  int direct_attempts = 2;
  // Relay over TCP: the relays' TCP port when UDP to them fails (`tcp_port:
  // 443`, the default); 0: `off`, never over TCP.
  uint16_t tcp_port = 443;
  bool operator==(const RelayChoiceConfig&) const = default;
};

struct InterfaceConfig {
  std::string name = "zeq0";
  std::vector<IpPrefix> addresses;    // host address with the subnet length
  uint16_t listen_port = 51820;
  int mtu = 1416;
  // A key made with `zeqvpnctl genkey`. Imported into the vault on first
  // start; optional once the vault holds the node's key.
  std::string identity_key_file;
  int workers = 0;                    // 0 = one per core
  // TUN TSO/USO and UDP GSO/GRO where the kernel has them (`auto`), or
  // one packet per syscall (`off`, for kernels or setups that misbehave).
  bool offloads = true;
  // The node's ZID when it is not the key's (PROTOCOL.md 2): an equation
  // identity's, from `zeqvpnctl zeqauth zid`. Empty: derived from the key.
  std::string zid;
};

struct ControlConfig {
  std::string socket = "/run/zeqvpn/zeqvpnd.sock";
  std::string group = "zeqvpn";       // may use the socket besides root
};

struct StateConfig {
  std::string database = "/var/lib/zeqvpn/state.db";
};

// `metrics:` — the Prometheus scrape endpoint (daemon/metrics_http_server.hpp):
// HTTP on `listen`, serving what `zeqvpnctl metrics` prints. Off unless
// listen is set. Unauthenticated, and the text names peers and their
// traffic, so it belongs on loopback or behind a firewall.
struct MetricsConfig {
  // A numeric address and TCP port ("127.0.0.1:9586", "[::1]:9586"), kept
  // as the transport's socket address type (IPv4 as v4-mapped); nullopt: off.
  std::optional<UdpEndpoint> listen;
  bool operator==(const MetricsConfig&) const = default;
};

// The kill switch (firewall/kill_switch_state.hpp has the modes' meaning).
struct KillSwitchConfig {
  KillSwitchMode mode = KillSwitchMode::kOff;
  bool allow_lan = false;             // LAN ranges and DHCP pass while armed
  uint32_t fwmark = 0x5a51;           // SO_MARK of the daemon's own UDP packets
};

struct DnsConfig {
  bool via_peer = true;               // use a resolver a peer offers
  std::optional<IpPrefix> offer;      // serving side: resolver offered to peers (a host prefix)
  std::string resolv_conf = "/etc/resolv.conf";  // used when systemd-resolved is not running
  // Name servers for peers' endpoint host names (host prefixes); empty: the
  // system's, as resolv.conf names them when zeqvpnd starts.
  std::vector<IpPrefix> endpoint_resolvers;
};

// The exit role: this node forwards the traffic of the peers allowed to use
// it out of out_interface, masqueraded (firewall/exit_policy.hpp).
struct ExitConfig {
  bool enabled = false;
  std::string out_interface;
  std::vector<std::string> allowed_peers;  // names or ZIDs of peers in this file
  bool ipv6 = true;                        // offer IPv6 too (needs IPv6 forwarding)
};

// Using an exit: everything but the tunnel's own packets goes to one peer
// (tun/policy_routing.hpp). The exit is exit_node, or the peer whose
// allowed_ips hold a default route (0.0.0.0/0, ::/0), as wg-quick has it.
struct ExitClientConfig {
  std::string exit_node;                   // a peer's name or ZID; empty: none
  bool block_ipv6_leaks = true;            // block outside IPv6 when the exit carries none
  uint32_t route_table = 0;                // 0: the fwmark's value
};

// Mesh certificates (identity/certificate.hpp): the CAs this node trusts
// (several during a rotation), its own certificate, sent in handshakes so
// nodes that do not name it in their YAML admit it, and revocation lists.
// Files, read at start and on reload (loader/certificate_files.hpp).
struct MeshConfig {
  std::vector<std::string> ca;           // CA public key files (ca.pub)
  std::string certificate;               // this node's certificate; empty: none
  std::vector<std::string> revocations;  // revocation list files
  bool operator==(const MeshConfig&) const = default;
};

// The mesh directory (directory/): how this node finds the other members.
// Used only with mesh.ca (records are verified against it).
enum class DirectoryBackend : uint8_t { kEmbedded, kEtcd, kOff };
struct DirectoryConfig {
  DirectoryBackend backend = DirectoryBackend::kEmbedded;
  // A directory peer's tunnel goes idle after this many Zeqonds without
  // traffic (0: never); the next packet brings it back.
  uint64_t idle_timeout_z = 386;  // about 5 minutes
  uint64_t max_records = 10'000;
  // The endpoints this node publishes instead of its local addresses (a
  // forwarded port, a public address); empty: every local address.
  std::vector<UdpEndpoint> advertise;
  // etcd backend: cluster members ("http://10.0.0.1:2379", https://...), key
  // prefix, user (password from ZEQ_ETCD_PASSWORD), TLS files, lease.
  std::vector<std::string> endpoints;
  std::string prefix = "/zeqvpn/mesh";
  std::string username;
  std::string ca_file, cert_file, key_file;
  int64_t lease_ttl_s = 10;
  bool operator==(const DirectoryConfig&) const = default;
};

// `enrollment:` — the bootstrap side of `zeqvpnctl mesh join` (docs/protocol.md,
// "Onboarding (mesh join)"): a TCP listener that enrols nodes holding an
// invite, signing their certificates with the mesh CA's key. Off unless
// listen is set; it needs the CA's private key on this node, so only the
// node that holds the mesh authority turns it on (`mesh init` does).
struct EnrollmentConfig {
  std::optional<UdpEndpoint> listen;   // TCP address and port; nullopt: off
  std::string ca_key;                  // the mesh CA's private key file (mode 0600)
  std::optional<IpPrefix> network;     // the tunnel network addresses are given from
  // The endpoints invite tokens name (up to 4); empty: listen's address
  // when it is a specific one, else this node's local addresses.
  std::vector<UdpEndpoint> advertise;
  uint64_t certificate_valid_z = 40'586'873;  // about 365 days
  bool operator==(const EnrollmentConfig&) const = default;
};

struct Config {
  std::string source;                 // file the config came from
  InterfaceConfig interface;
  std::vector<PeerConfig> peers;
  ControlConfig control;
  StateConfig state;
  MetricsConfig metrics;
  KillSwitchConfig kill_switch;
  DnsConfig dns;
  ExitConfig exit;
  ExitClientConfig exit_client;
  MeshConfig mesh;
  DirectoryConfig directory;
  EnrollmentConfig enrollment;
  NodeRole role = NodeRole::kNode;    // `role: node|relay`
  RelayRoleConfig relay;              // used with role: relay
  std::vector<RelayConfig> relays;
  RelayChoiceConfig relay_choice;
  CoverMode cover = CoverMode::kOff;  // cover traffic per peer
  PaddingPolicy padding = PaddingPolicy::kNone;  // data message sizes
  std::string log_level = "info";
};

inline constexpr char DEFAULT_CONFIG_PATH[] = "/etc/zeqvpn/zeqvpn.yaml";
// The valid log levels, for the error that names them.
inline constexpr const char* LOG_LEVELS[] = {"trace", "debug", "info", "warn", "error"};

// Parses YAML text; `source` (the file's path) names it in errors. Any
// bytes will do (the config fuzz target calls it); the file's size is
// bounded by loader/ before it gets here.
Result<Config> parse_config(const std::string& yaml_text, const std::string& source);

// The peer (index into config.peers) the node sends everything through at
// start: exit_node, or the peer holding a default route; nullopt: none.
std::optional<size_t> exit_peer_index(const Config& config);
// The routing table of exit routing: route_table, else the fwmark's value.
uint32_t exit_route_table(const Config& config);

// A peer with the node's own key (or its ZID) would make the node build a
// tunnel with itself. The text alone does not say whose node it is (the key
// file or the vault does), so whoever holds both calls this: the daemon at
// start, --check and reload, and `zeqvpnctl config check`.
Status refuse_own_key_as_peer(const Config& config, const PublicKey& own_key);

}  // namespace zeq
