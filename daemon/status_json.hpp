// How a running node looks to operators: the JSON of `zeqvpnctl status`,
// `peers`, `tunnels` and `killswitch` (docs/control.md), and the Prometheus
// text of `zeqvpnctl metrics`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "daemon/exit_client.hpp"
#include "daemon/exit_server.hpp"
#include "daemon/network_guard.hpp"
#include "mesh/node_status.hpp"
#include "store/tunnel_store.hpp"

namespace zeq {

nlohmann::json status_json(const NodeStatus& s, const GuardStatus& g);
nlohmann::json peer_json(const PeerStatus& p);
// {"kill_switch": {...}, "dns": {...}}
nlohmann::json guard_json(const GuardStatus& g);
nlohmann::json tunnel_json(const TunnelRow& t);
// {"client": {...the exit in use...}, "role": {...this node as an exit...}}
nlohmann::json exit_json(const ExitClientStatus& client, const ExitServerStatus& role);
// Prometheus text exposition format, version 0.0.4.
std::string metrics_text(const NodeStatus& s, const GuardStatus& g);
// A label value as that format writes it (\\, \" and \n escaped).
std::string prometheus_label(const std::string& value);
// The exit's part of the metrics: in use and routed families on a client,
// forwarded and refused packets on an exit.
std::string exit_metrics_text(const ExitClientStatus& client, const ExitServerStatus& role);

}  // namespace zeq
