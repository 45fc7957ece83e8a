// The commands of the control socket, answered from the running node and the
// state store: status, peers, tunnels, up, down, rekey, reload, metrics.
// Runs on the control thread (the node's io_context), so it may touch both.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>

#include "control/control_server.hpp"
#include "mesh/node.hpp"
#include "mesh/node_status.hpp"
#include "store/tunnel_store.hpp"

namespace zeq {

// Re-reads the configuration file and applies it; returns the summary.
using ReloadFn = std::function<Result<std::string>()>;

control::Handler make_control_handler(Node& node, TunnelStore& tunnels, ReloadFn reload);

nlohmann::json status_json(const NodeStatus& s);
nlohmann::json peer_json(const PeerStatus& p);
// {"kill_switch": {...}, "dns": {...}}
nlohmann::json guard_json(const GuardStatus& g);
nlohmann::json tunnel_json(const TunnelRow& t);
// Prometheus text exposition format, version 0.0.4.
std::string metrics_text(const NodeStatus& s);

}  // namespace zeq
