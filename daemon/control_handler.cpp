#include "daemon/control_handler.hpp"

#include "control/control_protocol.hpp"
#include "daemon/enrollment_service.hpp"
#include "daemon/exit_client.hpp"
#include "daemon/exit_server.hpp"
#include "daemon/mesh_directory.hpp"
#include "daemon/network_guard.hpp"
#include "daemon/nat_report.hpp"
#include "daemon/relay_report.hpp"
#include "daemon/relay_tcp_report.hpp"
#include "daemon/status_json.hpp"
#include "daemon/tunnel_recorder.hpp"
#include "mesh/node.hpp"

namespace zeq {

using json = nlohmann::json;
using control::Reply;

namespace {

// The node's status with what the daemon adds: the tunnel rows' ids.
NodeStatus full_status(const ControlContext& c) {
  NodeStatus s = c.node.status();
  for (auto& p : s.peers) p.tunnel_id = c.recorder.tunnel_id(p.zid);
  return s;
}

control::ControlCounters control_counters(const ControlContext& c) {
  return c.control_counters ? c.control_counters() : control::ControlCounters{};
}

// What happened to control connections, by outcome, for status and metrics.
std::vector<std::pair<const char*, uint64_t>> connection_outcomes(const control::ControlCounters& k) {
  return {{"accepted", k.accepted},         {"refused_permission", k.refused_permission},
          {"refused_busy", k.refused_busy}, {"evicted_for_root", k.evicted},
          {"timed_out", k.timed_out},       {"bad_request", k.bad_requests}};
}

Reply status(const ControlContext& c, const json&) {
  json j = status_json(full_status(c), c.guard.status());
  j["exit"] = exit_json(c.exit_client.status(), c.exit_server.status());
  if (c.nat) j["nat"] = nat_json(c.nat);
  json connections = json::object();
  for (const auto& [outcome, n] : connection_outcomes(control_counters(c))) connections[outcome] = n;
  j["control"] = {{"connections", connections}};
  return Reply::success(std::move(j));
}

Reply peers(const ControlContext& c, const json&) {
  json list = json::array();
  for (const auto& p : full_status(c).peers) {
    json j = peer_json(p);
    if (c.nat) j["nat"] = nat_peer_json(c.nat, c.node, p.zid);
    list.push_back(std::move(j));
  }
  return Reply::success({{"peers", list}});
}

Reply metrics(const ControlContext& c, const json&) { return Reply::success({{"text", prometheus_text(c)}}); }

Reply relays(const ControlContext& c, const json&) {
  json j = relays_json(c.relay_client, c.relay_service, c.relay_recorder);
  if (json tcp = relay_tcp_json(c.relay_tcp_client, c.relay_tcp_listener); !tcp.is_null()) j["tcp"] = std::move(tcp);
  return Reply::success(std::move(j));
}

Reply directory(const ControlContext& c, const json&) {
  if (!c.directory)
    return Reply::success({{"backend", "off"},
                           {"message", "the mesh directory is off: it needs mesh.ca (and directory.backend other than off)"}});
  return Reply::success(c.directory->report());
}

Reply tunnels(const ControlContext& c, const json& args) {
  int limit = args.value("limit", control::DEFAULT_TUNNEL_ROWS);
  if (limit < 1 || limit > control::MAX_TUNNEL_ROWS)
    return Reply::failure(control::BAD_REQUEST, "limit must be 1 to " + std::to_string(control::MAX_TUNNEL_ROWS));
  auto rows = c.tunnels.list(limit);
  if (!rows) return Reply::failure(control::FAILED, rows.message());
  json list = json::array();
  for (const auto& r : *rows) list.push_back(tunnel_json(r));
  return Reply::success({{"tunnels", list}});
}

// up, down and rekey: a peer by name or ZID, then the node's action.
Reply peer_action(const ControlContext& c, const std::string& cmd, const json& args,
                  Status (Node::*action)(const std::string&), const char* done) {
  if (!args.contains("peer") || !args["peer"].is_string() || args["peer"].get<std::string>().empty())
    return Reply::failure(control::BAD_REQUEST, cmd + " needs \"peer\": a peer's name or ZID");
  std::string peer = args["peer"].get<std::string>();
  if (Status known = c.node.check_peer(peer); !known) return Reply::failure(control::UNKNOWN_PEER, known.message());
  if (Status s = (c.node.*action)(peer); !s) return Reply::failure(control::FAILED, s.message());
  return Reply::success({{"peer", peer}, {"message", done}});
}

Reply up(const ControlContext& c, const json& args) {
  return peer_action(c, "up", args, &Node::peer_up, "up; handshaking");
}
Reply down(const ControlContext& c, const json& args) {
  return peer_action(c, "down", args, &Node::peer_down, "down; keys wiped, handshakes refused until `zeqvpnctl up`");
}
Reply rekey(const ControlContext& c, const json& args) {
  return peer_action(c, "rekey", args, &Node::rekey, "handshake sent; new keys follow when the peer answers");
}

Reply reload(const ControlContext& c, const json&) {
  auto r = c.reload();
  if (!r) return Reply::failure(control::FAILED, r.message());
  return Reply::success({{"summary", *r}});
}

Reply killswitch(const ControlContext& c, const json& args) {
  std::string action = args.value("action", "status");
  if (action != "arm" && action != "disarm" && action != "status")
    return Reply::failure(control::BAD_REQUEST, "killswitch action must be status, arm or disarm");
  Status s = action == "arm" ? c.guard.arm() : action == "disarm" ? c.guard.disarm() : Status::ok();
  if (!s) return Reply::failure(control::FAILED, s.message());
  return Reply::success(guard_json(c.guard.status()));
}

Reply cover(const ControlContext& c, const json& args) {
  std::string action = args.value("action", "status");
  std::string peer = args.value("peer", "");
  if (action != "on" && action != "off" && action != "status")
    return Reply::failure(control::BAD_REQUEST, "cover action must be on, off or status");
  if (!peer.empty())
    if (Status known = c.node.check_peer(peer); !known) return Reply::failure(control::UNKNOWN_PEER, known.message());
  if (action != "status")
    if (Status s = c.node.cover(peer, action == "on"); !s) return Reply::failure(control::FAILED, s.message());
  json list = json::array();
  for (const auto& p : full_status(c).peers)
    if (peer.empty() || p.name == peer || p.zid == peer) list.push_back(peer_json(p));
  return Reply::success({{"peers", list}});
}

// exit use PEER | off | status: the exit in use, by the operator until the
// next restart (or a reload that changes exit_node).
Reply exit_command(const ControlContext& c, const json& args) {
  std::string action = args.value("action", "status");
  if (action != "use" && action != "off" && action != "status")
    return Reply::failure(control::BAD_REQUEST, "exit action must be use, off or status");
  if (action == "use") {
    if (!args.contains("peer") || !args["peer"].is_string() || args["peer"].get<std::string>().empty())
      return Reply::failure(control::BAD_REQUEST, "exit use needs \"peer\": a peer's name or ZID");
    std::string peer = args["peer"].get<std::string>();
    if (Status known = c.node.check_peer(peer); !known) return Reply::failure(control::UNKNOWN_PEER, known.message());
    if (Status s = c.exit_client.use(peer); !s) return Reply::failure(control::FAILED, s.message());
  } else if (action == "off") {
    if (Status s = c.exit_client.off(); !s) return Reply::failure(control::FAILED, s.message());
  }
  json j = exit_json(c.exit_client.status(), c.exit_server.status());
  const GuardStatus g = c.guard.status();
  j["dns"] = guard_json(g)["dns"];
  j["client"]["ipv6_blocked_packets"] = g.blocked.count("blocked_ipv6") ? g.blocked.at("blocked_ipv6") : 0;
  return Reply::success(std::move(j));
}

// mesh_invite, mesh_invites, mesh_revoke: invites of the enrollment service.
Reply no_enrollment() {
  return Reply::failure(control::FAILED,
                        "this node does not enrol nodes (enrollment.listen is off); run it on the node that holds the "
                        "mesh authority (`zeqvpnctl mesh init` set it up there)");
}

Reply mesh_invite(const ControlContext& c, const json& args) {
  if (!c.enrollment) return no_enrollment();
  if (!args.contains("name") || !args["name"].is_string())
    return Reply::failure(control::BAD_REQUEST, "mesh_invite needs \"name\": the new node's name");
  if (args.contains("expires_s") && !args["expires_s"].is_number_unsigned())
    return Reply::failure(control::BAD_REQUEST, "mesh_invite: \"expires_s\" must be a number of seconds");
  if (args.contains("roles") && !args["roles"].is_string())
    return Reply::failure(control::BAD_REQUEST, "mesh_invite: \"roles\" must be node, relay or node,relay");
  auto r = c.enrollment->invite(args["name"].get<std::string>(), args.value("roles", "node"),
                                args.value("expires_s", uint64_t(3600)));
  if (!r) return Reply::failure(control::BAD_REQUEST, "mesh invite: " + r.message());
  return Reply::success(std::move(r.value()));
}

Reply mesh_invites(const ControlContext& c, const json&) {
  if (!c.enrollment) return no_enrollment();
  auto r = c.enrollment->invites();
  if (!r) return Reply::failure(control::FAILED, r.message());
  return Reply::success(std::move(r.value()));
}

Reply mesh_revoke(const ControlContext& c, const json& args) {
  if (!c.enrollment) return no_enrollment();
  if (!args.contains("invite") || !args["invite"].is_string())
    return Reply::failure(control::BAD_REQUEST, "mesh_revoke needs \"invite\": an invite's id, id prefix or name");
  auto r = c.enrollment->revoke(args["invite"].get<std::string>());
  if (!r) return Reply::failure(control::FAILED, r.message());
  return Reply::success(std::move(r.value()));
}

struct Command {
  const char* name;
  Reply (*run)(const ControlContext&, const json& args);
};

// Every command of the control protocol, in the order docs/control.md has them.
constexpr Command COMMANDS[] = {
    {"status", status}, {"peers", peers},   {"tunnels", tunnels},       {"up", up},         {"down", down},
    {"rekey", rekey},   {"reload", reload}, {"metrics", metrics},       {"killswitch", killswitch},
    {"cover", cover},   {"exit", exit_command}, {"directory", directory}, {"relays", relays},
    {"mesh_invite", mesh_invite}, {"mesh_invites", mesh_invites}, {"mesh_revoke", mesh_revoke},
};

}  // namespace

std::string prometheus_text(const ControlContext& c) {
  std::string text = metrics_text(full_status(c), c.guard.status());
  text += exit_metrics_text(c.exit_client.status(), c.exit_server.status());
  if (c.directory) text += c.directory->metrics();
  text += relay_metrics_text(c.relay_client, c.relay_service);
  text += nat_metrics_text(c.nat, c.node);
  text += relay_tcp_metrics_text(c.relay_tcp_client, c.relay_tcp_listener);
  if (c.enrollment) text += c.enrollment->metrics();
  text += "# HELP zeqvpn_control_connections_total Control socket connections by outcome.\n"
          "# TYPE zeqvpn_control_connections_total counter\n";
  for (const auto& [outcome, n] : connection_outcomes(control_counters(c)))
    text += "zeqvpn_control_connections_total{outcome=\"" + std::string(outcome) + "\"} " + std::to_string(n) + "\n";
  return text;
}

std::vector<std::string> control_commands() {
  std::vector<std::string> names;
  for (const auto& c : COMMANDS) names.emplace_back(c.name);
  return names;
}

control::Handler make_control_handler(ControlContext context) {
  return [c = std::move(context)](const std::string& cmd, const json& args) -> Reply {
    for (const auto& command : COMMANDS)
      if (cmd == command.name) return command.run(c, args);
    std::string known;
    for (const auto& name : control_commands()) known += (known.empty() ? "" : ", ") + name;
    return Reply::failure(control::UNKNOWN_COMMAND, "unknown command '" + cmd + "'; known: " + known);
  };
}

}  // namespace zeq
