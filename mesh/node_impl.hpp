// The inside of a Node, shared by the files that implement it (node.cpp:
// set-up, the event loop and its timers; node_status.cpp; node_peers.cpp:
// operator actions; node_reload.cpp). Private to mesh/. The Boost.Asio parts
// live in node.cpp behind `Loop`, so this header stays free of them.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <vector>

#include "core/clock.hpp"
#include "crypto/random.hpp"
#include "mesh/control_queue.hpp"
#include "mesh/cover_scheduler.hpp"
#include "mesh/data_plane.hpp"
#include "mesh/data_worker.hpp"
#include "mesh/dns_offers.hpp"
#include "mesh/endpoint_refresher.hpp"
#include "mesh/exit_offers.hpp"
#include "mesh/node.hpp"
#include "mesh/session_manager.hpp"
#include "tun/tun_device.hpp"

namespace zeq {

// The kernel routes for a peer list (node_reload.cpp): every allowed_ips
// prefix but a default route (full-tunnel routing is policy routing, set up
// by the daemon: tun/policy_routing.hpp).
std::set<IpPrefix> kernel_routes(const std::vector<PeerSettings>& peers);

struct Node::Impl final : TunnelEvents {
  struct Loop;  // node.cpp: io_context, signals, timers

  Impl(const NodeSettings& s, LocalIdentity id, SecretBuffer secret, TunDevice device, int worker_count);
  ~Impl() override;

  // Builds the workers' inbox and peers, the workers and the session logic.
  Status build();

  // TunnelEvents, from the session manager: our own reactions (DNS and
  // exit offers, log), then the daemon's observer.
  void tunnel_up(Peer& peer) override;
  void tunnel_down(Peer& peer, const char* reason) override;

  // An in-tunnel control message from the peer, to the offer it is.
  void on_control_message(Peer& peer, ByteSpan plaintext);
  // The control thread's timer work, TICKS_PER_ZEQOND times per Zeqond.
  void tick();
  // node.cpp: the event loop's timers and signals, each re-arming itself.
  void schedule_tick();
  void run_cover();
  void wait_signal();
  // node_peers.cpp
  Result<Peer*> find_peer(const std::string& name) const;
  // Kernel routes for what certified-only peers may route, outside the TUN's
  // own networks and the YAML's routes: the set is recomputed from every
  // peer after each change (admission, renewal, cut, reload) and the
  // difference applied, so shared prefixes need no counting.
  void sync_certified_routes();

  NodeSettings settings;
  LocalIdentity identity;
  SecretBuffer mesh;
  SystemClock clock;
  SystemRandom random;
  TunDevice tun;
  // What the kernel took of the offloads (TunDevice::offload_summary and
  // the sockets' GSO/GRO), for the log and status: "tun tso4 tso6, udp gso gro".
  std::string offloads;
  DataPlane plane;
  std::unique_ptr<Loop> loop;
  std::unique_ptr<ControlQueue> queue;
  std::vector<std::unique_ptr<DataWorker>> workers;
  std::unique_ptr<SessionManager> sessions;
  std::unique_ptr<DnsOffers> dns;
  std::unique_ptr<ExitOffers> exits;
  std::unique_ptr<CoverScheduler> cover;
  std::unique_ptr<EndpointRefresher> endpoints;  // peers' endpoint host names
  Observers observers;
  Hooks hooks;
  std::set<IpPrefix> certified_routes;  // installed by sync_certified_routes
  const int64_t started_us;
  uint64_t ticks = 0;
  bool first_handshakes_sent = false;  // send_first_handshakes, or run()
};

}  // namespace zeq
