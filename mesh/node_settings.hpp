// What the mesh needs of the configuration, in its own plain types. The
// daemon fills them from config/ (which mesh/ does not depend on), with every
// value already parsed: the node never looks at configuration text.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/modes.hpp"
#include "core/net_address.hpp"
#include "crypto/x25519.hpp"
#include "identity/certificate.hpp"

namespace zeq {

struct PeerSettings {
  std::string name;                       // label for logs and commands; may be empty
  std::string zid;
  PublicKey public_key{};
  std::optional<UdpEndpoint> endpoint;    // nullopt: wait for the peer to call
  // Or a host name and port the node resolves (mesh/endpoint_refresher.hpp);
  // endpoint is nullopt then. Empty: none.
  std::string endpoint_host;
  uint16_t endpoint_port = 0;
  std::vector<IpPrefix> allowed_ips;      // network prefixes (host bits cleared)
  int persistent_keepalive_s = 0;         // 0 = off
  std::optional<CoverMode> cover;         // nullopt: the node's
  std::optional<PaddingPolicy> padding;   // nullopt: the node's
  // Whether handshakes to this peer carry our certificate (when we have
  // one); false keeps them PROTOCOL.md v1 for a peer that cannot read
  // extensions.
  bool send_certificate = true;
  // Relays: whether this peer is a relay this node may use (YAML `relays:`,
  // kept as a peer without routes), and how the peer is reached.
  bool is_relay = false;
  PeerPath via = PeerPath::kAuto;

  bool operator==(const PeerSettings&) const = default;
  // How logs, errors and summaries name the peer.
  std::string label() const { return name.empty() ? zid : name + " (" + zid + ")"; }
};

// The exit role (mesh/exit_offers.hpp): the peers this node forwards for,
// by ZID, and the families it forwards (protocol/control_message.hpp
// EXIT_IPV4 | EXIT_IPV6; 0: none, say so to the peers).
struct ExitOfferSettings {
  std::vector<std::string> zids;
  uint8_t families = 0;
  bool operator==(const ExitOfferSettings&) const = default;
};

struct TrustSettings;  // mesh/mesh_trust.hpp

// A peer the mesh directory vouches for (its record passed every check of
// directory/record_store.hpp): its certificate and the UDP endpoints its
// record lists, tried in that order.
struct KnownPeer {
  Certificate certificate;
  std::vector<UdpEndpoint> endpoints;
  // Its record offers relaying (and its certificate has the relay role):
  // the node may reach other peers through it (relay/relay_client.hpp).
  bool relay = false;
};

struct NodeSettings {
  std::string interface_name = "zeq0";
  std::vector<IpPrefix> addresses;        // the TUN's own addresses
  uint16_t listen_port = 0;
  int mtu = 0;
  int workers = 0;                        // 0 = one per core
  bool offloads = true;                   // TUN TSO/USO, UDP GSO/GRO where the kernel has them
  uint32_t fwmark = 0;                    // SO_MARK of every UDP socket (0 = none)
  std::optional<IpPrefix> dns_offer;      // our resolver, offered to every peer in the tunnel
  // Name servers for endpoint host names, asked outside the tunnel (with
  // fwmark); the daemon captures the system's at start.
  std::vector<IpPrefix> endpoint_resolvers;
  ExitOfferSettings exit_offer;           // empty: not an exit
  CoverMode cover = CoverMode::kOff;
  PaddingPolicy padding = PaddingPolicy::kNone;
  std::vector<PeerSettings> peers;
  // Mesh certificates: trusted CAs, revocation lists, our own certificate
  // (null: none of them; peers are trusted by the YAML alone).
  std::shared_ptr<const TrustSettings> trust;
  // A tunnel to a peer known from the directory goes idle (keys dropped,
  // peer and routes kept; the next packet brings it back) after this many
  // Zeqonds without an IP packet either way. 0: never.
  uint64_t known_peer_idle_z = 0;
  // role: relay: no TUN device; relayed messages are forwarded
  // (relay/relay_service.hpp) instead of opened.
  bool relay_role = false;
};

}  // namespace zeq
