// The node's YAML configuration, parsed into a typed and validated Config.
// Every error names the file, line, column and field, says what was found and
// what is expected. No secrets live in this file (see secrets.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/net_address.hpp"
#include "core/result.hpp"
#include "crypto/x25519.hpp"

namespace zeq {

struct PeerConfig {
  std::string name;                   // optional label for logs
  std::string zid;                    // derived from public_key when omitted
  PublicKey public_key{};
  std::optional<UdpEndpoint> endpoint;
  std::vector<IpPrefix> allowed_ips;
  int persistent_keepalive_s = 0;     // 0 = off
  std::string cover;                  // off, constant, probabilistic; empty = the node's
  std::string padding;                // none, buckets, mtu; empty = the node's
  std::string billing_unit = "gb";    // "gb" or "zeqond" (store/billing.hpp)
  uint64_t billing_price = 0;         // integer price per unit

  bool operator==(const PeerConfig&) const = default;
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
};

struct ControlConfig {
  std::string socket = "/run/zeqvpn/zeqvpnd.sock";
  std::string group = "zeqvpn";       // may use the socket besides root
};

struct StateConfig {
  std::string database = "/var/lib/zeqvpn/state.db";
};

// The kill switch (firewall/kill_switch_state.hpp has the modes' meaning).
struct KillSwitchConfig {
  std::string mode = "off";           // off, on_drop, always
  bool allow_lan = false;             // LAN ranges and DHCP pass while armed
  uint32_t fwmark = 0x5a51;           // SO_MARK of the daemon's own UDP packets
};

struct DnsConfig {
  bool via_peer = true;               // use a resolver a peer offers
  std::string offer;                  // serving side: resolver address offered to peers
  std::string resolv_conf = "/etc/resolv.conf";  // used when systemd-resolved is not running
};

struct Config {
  std::string source;                 // file the config came from
  InterfaceConfig interface;
  std::vector<PeerConfig> peers;
  ControlConfig control;
  StateConfig state;
  KillSwitchConfig kill_switch;
  DnsConfig dns;
  std::string cover = "off";          // cover traffic per peer: off, constant, probabilistic
  std::string padding = "none";       // data message sizes: none, buckets, mtu
  std::string log_level = "info";
};

inline constexpr char DEFAULT_CONFIG_PATH[] = "/etc/zeqvpn/zeqvpn.yaml";

Result<Config> load_config_file(const std::string& path);
// Parses YAML text; `source` names it in errors.
Result<Config> parse_config(const std::string& yaml_text, const std::string& source);

}  // namespace zeq
