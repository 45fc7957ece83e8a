// What the mesh needs of the configuration, in its own plain types. The
// daemon fills them from config/ (which mesh/ does not depend on), with every
// value already parsed: the node never looks at configuration text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/modes.hpp"
#include "core/net_address.hpp"
#include "crypto/x25519.hpp"

namespace zeq {

struct PeerSettings {
  std::string name;                       // label for logs and commands; may be empty
  std::string zid;
  PublicKey public_key{};
  std::optional<UdpEndpoint> endpoint;    // nullopt: wait for the peer to call
  std::vector<IpPrefix> allowed_ips;      // network prefixes (host bits cleared)
  int persistent_keepalive_s = 0;         // 0 = off
  std::optional<CoverMode> cover;         // nullopt: the node's
  std::optional<PaddingPolicy> padding;   // nullopt: the node's

  bool operator==(const PeerSettings&) const = default;
  // How logs, errors and summaries name the peer.
  std::string label() const { return name.empty() ? zid : name + " (" + zid + ")"; }
};

struct NodeSettings {
  std::string interface_name = "zeq0";
  std::vector<IpPrefix> addresses;        // the TUN's own addresses
  uint16_t listen_port = 0;
  int mtu = 0;
  int workers = 0;                        // 0 = one per core
  uint32_t fwmark = 0;                    // SO_MARK of every UDP socket (0 = none)
  std::optional<IpPrefix> dns_offer;      // our resolver, offered to every peer in the tunnel
  CoverMode cover = CoverMode::kOff;
  PaddingPolicy padding = PaddingPolicy::kNone;
  std::vector<PeerSettings> peers;
};

}  // namespace zeq
