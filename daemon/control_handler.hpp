// The commands of the control socket (docs/control.md), answered from the
// running node, the network guard and the state store: one table of
// command names and handlers, which is also the list of known commands.
// Runs on the control thread (the node's io_context), so it may touch all.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "control/control_server.hpp"
#include "core/result.hpp"

namespace zeq {

class EnrollmentService;
class ExitClient;
class ExitServer;
class MeshDirectory;
class NatTraversal;
class Node;
class NetworkGuard;
class RelayClient;
class RelayRecorder;
class RelayService;
class RelayTcpClient;
class RelayTcpListener;
class TunnelRecorder;
class TunnelStore;

// Re-reads the configuration file and applies it; returns the summary.
using ReloadFn = std::function<Result<std::string>()>;

// What the commands act on; everything must outlive the handler.
struct ControlContext {
  Node& node;
  NetworkGuard& guard;
  TunnelStore& tunnels;
  TunnelRecorder& recorder;
  ExitClient& exit_client;
  ExitServer& exit_server;
  ReloadFn reload;
  // The control socket's own counters (refused, evicted, timed out), shown
  // by status and metrics; may be empty.
  std::function<control::ControlCounters()> control_counters;
  // The mesh directory; null when it is off (no mesh.ca, or backend: off).
  MeshDirectory* directory = nullptr;
  // Relays: the client side (a node) or the relay role, and their
  // accounting; null when not there.
  RelayClient* relay_client = nullptr;
  RelayService* relay_service = nullptr;
  RelayRecorder* relay_recorder = nullptr;
  // The bootstrap side of `mesh join` (enrollment.listen); null when off.
  EnrollmentService* enrollment = nullptr;
  // NAT traversal (relay/nat_traversal.hpp); null on a relay.
  NatTraversal* nat = nullptr;
  // Relay over TCP: the client side (a node) or the relay's listener; null
  // when off.
  RelayTcpClient* relay_tcp_client = nullptr;
  RelayTcpListener* relay_tcp_listener = nullptr;
};

control::Handler make_control_handler(ControlContext context);
// The Prometheus text that `zeqvpnctl metrics` prints and the metrics
// endpoint serves (one rendering for both). On the control thread.
std::string prometheus_text(const ControlContext& context);
// The command names the handler knows, as its table lists them.
std::vector<std::string> control_commands();

}  // namespace zeq
