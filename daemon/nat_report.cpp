#include "daemon/nat_report.hpp"

#include <fmt/format.h>

#include "daemon/status_json.hpp"
#include "mesh/node.hpp"
#include "mesh/peer.hpp"
#include "relay/nat_traversal.hpp"

namespace zeq {

using json = nlohmann::json;

json nat_json(const NatTraversal* nat) {
  if (!nat) return nullptr;
  json reported = json::array();
  for (const auto& ep : nat->reported_endpoints()) reported.push_back(ep.to_string());
  const auto& k = nat->counters();
  return {{"type", nat_type_name(nat->nat_type())},
          {"reported_endpoints", reported},
          {"counters",
           {{"observed", k.observed},
            {"candidates_sent", k.candidates_sent},
            {"candidates_received", k.candidates_received},
            {"probes_sent", k.probes_sent},
            {"probes_received", k.probes_received},
            {"replies_received", k.replies_received},
            {"upgrades", k.upgrades},
            {"fallbacks", k.fallbacks},
            {"punch_failures", k.punch_failures},
            {"malformed", k.malformed},
            {"address_changes", k.address_changes}}}};
}

json nat_peer_json(const NatTraversal* nat, const Node& node, const std::string& zid) {
  if (!nat) return nullptr;
  const Peer* peer = node.peer_by_zid(zid);
  if (!peer) return nullptr;
  auto v = nat->peer_view(peer->serial);
  if (!v) return nullptr;
  return {{"phase", v->phase},
          {"nat", nat_type_name(nat->nat_type())},
          {"peer_nat", v->peer_nat},
          {"candidates", v->candidates},
          {"direct_s", double(v->direct_us) / 1e6},
          {"relayed_s", double(v->relayed_us) / 1e6},
          {"relayed_tcp_s", double(v->relayed_tcp_us) / 1e6},
          {"upgrades", v->upgrades},
          {"fallbacks", v->fallbacks},
          {"retry_in_s", double(v->retry_in_us) / 1e6}};
}

std::string nat_metrics_text(const NatTraversal* nat, const Node& node) {
  if (!nat) return {};
  std::string out =
      "# HELP zeqvpn_nat_type This node's NAT as observers see it (1 for the type in force).\n"
      "# TYPE zeqvpn_nat_type gauge\n";
  const NatType now = nat->nat_type();
  for (NatType t : {NatType::kUnknown, NatType::kNone, NatType::kEndpointIndependent, NatType::kSymmetric})
    out += fmt::format("zeqvpn_nat_type{{type=\"{}\"}} {}\n", nat_type_name(t), t == now ? 1 : 0);
  const auto& k = nat->counters();
  out += "# HELP zeqvpn_nat_events_total NAT traversal events: punched paths taken, direct paths lost, punches failed.\n"
         "# TYPE zeqvpn_nat_events_total counter\n";
  out += fmt::format("zeqvpn_nat_events_total{{event=\"upgrade\"}} {}\n", k.upgrades);
  out += fmt::format("zeqvpn_nat_events_total{{event=\"fallback\"}} {}\n", k.fallbacks);
  out += fmt::format("zeqvpn_nat_events_total{{event=\"punch_failed\"}} {}\n", k.punch_failures);
  out += fmt::format("zeqvpn_nat_events_total{{event=\"malformed\"}} {}\n", k.malformed);
  out += fmt::format("zeqvpn_nat_events_total{{event=\"address_change\"}} {}\n", k.address_changes);
  out += "# HELP zeqvpn_peer_path_seconds_total Time the peer's packets went by each path while its tunnel was up.\n"
         "# TYPE zeqvpn_peer_path_seconds_total counter\n";
  for (const Peer* p : node.peers()) {
    auto v = nat->peer_view(p->serial);
    if (!v) continue;
    const std::string who = fmt::format("peer=\"{}\",zid=\"{}\"", prometheus_label(p->settings.name),
                                        prometheus_label(p->key.zid));
    out += fmt::format("zeqvpn_peer_path_seconds_total{{{},path=\"direct\"}} {:.3f}\n", who, double(v->direct_us) / 1e6);
    out += fmt::format("zeqvpn_peer_path_seconds_total{{{},path=\"relay\"}} {:.3f}\n", who, double(v->relayed_us) / 1e6);
    out += fmt::format("zeqvpn_peer_path_seconds_total{{{},path=\"relayed-tcp\"}} {:.3f}\n", who,
                       double(v->relayed_tcp_us) / 1e6);
  }
  return out;
}

}  // namespace zeq
