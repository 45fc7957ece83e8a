// A running zeqvpn node: the TUN device, the data-plane workers, and the
// control thread's event loop (handshakes, timers, cover traffic, signals,
// and whatever the daemon attaches to it, such as the control socket).
// What the node announces (tunnels up and down, the network policy it
// wants) goes to observers the daemon provides; the node itself writes no
// database, firewall or resolver. Boost.Asio stays inside the .cpp files;
// this header only forward-declares the io_context.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "core/result.hpp"
#include "crypto/secret_bytes.hpp"
#include "identity/key_file.hpp"
#include "mesh/nat_listener.hpp"
#include "mesh/network_policy.hpp"
#include "mesh/node_settings.hpp"
#include "mesh/node_status.hpp"
#include "mesh/relay_listener.hpp"
#include "mesh/relay_switch.hpp"
#include "mesh/tunnel_events.hpp"
#include "tun/tun_device.hpp"

namespace boost::asio {
class io_context;
}

namespace zeq {

class Peer;

class Node {
 public:
  // The node's interface: the UDP port checked free, then the TUN device
  // (one queue per worker) with its MTU, addresses and the configured peers'
  // routes; for a relay, detached queues and no interface. Apart from the
  // node so a daemon can open it while other start-up work runs (the vault's
  // key derivation); it needs no identity. The device goes away with the
  // value.
  static Result<TunDevice> open_interface(const NodeSettings& settings);
  // Sets up the rest (sockets, workers, sessions) on an interface from
  // open_interface with the same settings, or nothing: on failure whatever
  // was created is removed again, the interface with it. Sends nothing until
  // send_first_handshakes() or run().
  static Result<std::unique_ptr<Node>> create(const NodeSettings& settings, LocalIdentity identity,
                                              SecretBuffer mesh_secret, TunDevice interface);
  ~Node();

  // Who hears what the node announces, on the control thread. Either may be
  // null; both must outlive the node. Set before run().
  // In-tunnel control messages of types the node does not handle itself
  // (the directory's, protocol/directory_messages.hpp), on the control thread.
  class ControlListener {
   public:
    virtual ~ControlListener() = default;
    virtual void control_message(Peer& peer, ByteSpan plaintext) = 0;
  };
  struct Observers {
    TunnelEvents* tunnels = nullptr;
    NetworkPolicy* network = nullptr;
    TunnelEvents* more_tunnels = nullptr;  // a second listener (the directory's gossip)
    ControlListener* control = nullptr;
    RelayListener* relay = nullptr;        // relay/: the relay role or the client side
    NatListener* nat = nullptr;            // relay/nat_traversal.hpp: endpoint discovery, hole punching
  };
  void set_observers(Observers observers);

  // Called on the control thread. on_reload_signal runs on SIGHUP.
  struct Hooks {
    std::function<void()> on_ready;          // workers running, first handshakes sent
    std::function<void()> on_stopping;       // SIGTERM/SIGINT received
    std::function<void()> on_reload_signal;  // SIGHUP
    // Every tunnel is down, the interface not yet gone: the daemon puts the
    // system resolver back while the link it was set on still exists.
    std::function<void()> on_teardown;
  };
  void set_hooks(Hooks hooks);

  // The control thread's event loop, for attaching more work to it.
  boost::asio::io_context& io();
  // The TUN interface's index (the system resolver is pointed at it).
  int ifindex() const;

  // Resolves the peers' endpoint host names and sends the first handshake
  // initiations now, on the thread that calls run() next, before it does:
  // the rest of a start then overlaps the first round trip, whose answer
  // waits in the socket until run() starts the workers. Without this call
  // run() sends them. Only once the kill switch is in place, the observers
  // are set and the node has the mesh's trust.
  void send_first_handshakes();

  // Runs until SIGTERM or SIGINT, then tears the tunnel down (tunnel_down
  // for every peer), wipes keys and removes the interface. SIGUSR1 logs the
  // status of every peer.
  int run();

  // ---- control thread only (from hooks or handlers on io()) ----
  NodeStatus status() const;
  // PEER is a peer's name or ZID; errors name it and list the known ones.
  // check_peer: ok when PEER is configured, else that error.
  Status check_peer(const std::string& peer) const;
  Status peer_down(const std::string& peer);
  Status peer_up(const std::string& peer);
  Status rekey(const std::string& peer);
  // `zeqvpnctl cover on|off [PEER]` (empty: every peer): holds until the
  // next `cover` command or a restart.
  Status cover(const std::string& peer, bool on);
  // Sends everything of the given families to PEER (the exit in use): its
  // cryptokey routes get the default routes besides its allowed_ips. An
  // empty PEER: no exit. Fails when PEER is unknown or another peer holds a
  // default route in its allowed_ips. Kernel routing is the caller's
  // (tun/policy_routing.hpp).
  Status use_exit(const std::string& peer, bool ipv4, bool ipv6);
  // What a reload changed, for the operator's one-line summary.
  struct ReloadChange {
    std::vector<std::string> added, removed, updated;  // peers, by label
    size_t unchanged = 0;
    size_t routes_added = 0, routes_removed = 0;
    std::string summary() const;
  };
  // Applies new peers, cover, padding and DNS offer; the interface settings
  // (name, addresses, port, MTU, workers, fwmark) must be the running ones
  // (the daemon refuses a reload that changes them). Kernel routes change
  // first, then `between` runs (the daemon changes its kill switch there),
  // then the rest, which cannot fail. If netlink refuses a route or
  // `between` fails, the routes are put back, nothing else has changed, and
  // the error says why.
  // The mesh directory's side (node_directory.cpp; see
  // SessionManager::learn_peers): peers its records vouch for, added or
  // updated, or forgotten when their record goes.
  void learn_peers(const std::vector<KnownPeer>& peers);
  void unlearn_peers(const std::vector<std::string>& zids);
  // The certificates' trust in force (a revocation list arrived through the
  // directory): applied as a reload applies it.
  void set_trust(std::shared_ptr<const TrustSettings> trust);
  // Sends an in-tunnel control message to the peer with this serial (up to
  // SessionManager::MAX_CONTROL_PLAINTEXT bytes). False without a usable
  // session, or when the peer is gone.
  bool send_control(uint64_t serial, ByteSpan plaintext);
  // The same, sent straight to `to` whatever the peer's route (NAT
  // traversal: hole punching and the direct path's probes).
  bool send_control_direct(uint64_t serial, ByteSpan plaintext, const UdpEndpoint& to);

  // ---- relays (node_relay.cpp), for relay/ ----
  std::vector<Peer*> peers() const;
  Peer* peer_by_zid(const std::string& zid) const;
  Peer* peer_by_serial(uint64_t serial) const;
  const std::string& zid() const;
  // SessionManager's routes (relay_paths.cpp): see there.
  uint64_t add_relay_route(Peer& peer, Peer& relay, uint32_t channel, bool use);
  void remove_relay_route(Peer& peer, uint64_t route_id);
  bool use_relay_route(Peer& peer, uint64_t route_id);
  void handshake_now(Peer& peer);
  // The relay role's forwarding table (mesh/relay_switch.hpp).
  void publish_relay_switch(std::shared_ptr<const RelaySwitchTable> table);

  Result<ReloadChange> reload(const NodeSettings& next, const std::function<Status()>& between = {});

 private:
  struct Impl;
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zeq
