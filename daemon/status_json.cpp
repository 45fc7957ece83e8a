#include "daemon/status_json.hpp"

#include <fmt/format.h>

#include "core/constants.hpp"
#include "protocol/control_message.hpp"

namespace zeq {

using json = nlohmann::json;

namespace {

double seconds(int64_t us) { return double(us) / 1e6; }

// Label values in the Prometheus text format escape \, " and newlines.
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

// EXIT_IPV4 | EXIT_IPV6 as a list of names.
json families_json(uint8_t f) {
  json out = json::array();
  if (f & EXIT_IPV4) out.push_back("ipv4");
  if (f & EXIT_IPV6) out.push_back("ipv6");
  return out;
}

json exit_json(const ExitClientStatus& c, const ExitServerStatus& r) {
  json client = {{"exit", c.exit.empty() ? json(nullptr) : json(c.exit)},
                 {"zid", c.exit_zid.empty() ? json(nullptr) : json(c.exit_zid)},
                 {"chosen_by", c.chosen_by},
                 {"routed", families_json(uint8_t((c.ipv4 ? EXIT_IPV4 : 0) | (c.ipv6 ? EXIT_IPV6 : 0)))},
                 {"ipv6_blocked", c.ipv6_blocked},
                 {"offered", families_json(c.offered)},
                 {"offer_needed", c.offer_needed},
                 {"route_table", c.table},
                 {"installed", c.installed}};
  json role = {{"enabled", r.enabled}};
  if (r.enabled) {
    role["out_interface"] = r.out_interface;
    role["allowed_peers"] = r.allowed_peers;
    role["offering"] = families_json(uint8_t((r.ipv4 ? EXIT_IPV4 : 0) | (r.ipv6 ? EXIT_IPV6 : 0)));
    role["problems"] = r.problems;
    role["packets"] = r.counters;
  }
  return {{"client", client}, {"role", role}};
}

json certificate_json(const std::optional<CertificateStatus>& c) {
  if (!c) return nullptr;
  return {{"name", c->name},
          {"zid", c->zid},
          {"fingerprint", c->fingerprint},
          {"issuer", c->issuer},
          {"owner", c->owner.empty() ? json(nullptr) : json(c->owner)},
          {"roles", c->roles},
          {"groups", c->groups},
          {"addresses", c->addresses},
          {"allowed_ips", c->allowed_ips},
          {"not_before_zeqond", c->not_before_z},
          {"not_after_zeqond", c->not_after_z},
          {"expires_in_s", c->expires_in_s},
          {"expires_soon", c->expires_in_s < CERTIFICATE_WARN_S}};
}

json peer_json(const PeerStatus& p) {
  json j = {{"name", p.name},
            {"zid", p.zid},
            {"public_key", p.public_key},
            {"state", p.state},
            {"endpoint", p.endpoint.empty() ? json(nullptr) : json(p.endpoint)},
            {"endpoint_host", p.endpoint_host.empty() ? json(nullptr) : json(p.endpoint_host)},
            {"allowed_ips", p.allowed_ips},
            {"rx_bytes", p.rx_bytes},
            {"tx_bytes", p.tx_bytes},
            {"rx_packets", p.rx_packets},
            {"tx_packets", p.tx_packets},
            {"handshakes", p.handshakes},
            {"rekeys", p.rekeys},
            {"persistent_keepalive", p.persistent_keepalive_s},
            {"tunnel_id", p.tunnel_id},
            {"up_for_s", seconds(p.up_for_us)},
            {"exit",
             {{"in_use", p.is_exit},
              {"offers_us", families_json(p.exit_offer_received)},
              {"we_offer", families_json(p.exit_offer_sent)}}},
            {"cover",
             {{"mode", p.cover_mode},
              {"padding", p.padding},
              {"tx_packets", p.cover_tx_packets},
              {"tx_bytes", p.cover_tx_bytes},
              {"rx_packets", p.cover_rx_packets},
              {"rx_bytes", p.cover_rx_bytes},
              {"last_sent_mono_s", double(p.cover_last_sent_ns) / 1e9},
              {"last_due_mono_s", double(p.cover_last_due_ns) / 1e9}}},
            {"certificate", certificate_json(p.certificate)},
            {"certified_only", p.certified_only},
            {"from_directory", p.from_directory},
            {"staged_packets", p.staged_packets},
            {"idle_teardowns", p.idle_teardowns},
            {"is_relay", p.is_relay},
            {"via", p.via},
            {"path", p.path},
            {"relay", p.relay.empty() ? json(nullptr) : json(p.relay)},
            {"relay_zid", p.relay_zid.empty() ? json(nullptr) : json(p.relay_zid)},
            {"relay_channel", p.relay_channel},
            {"relay_routes", p.relay_routes},
            {"path_rtt_ms", p.path_rtt_us < 0 ? json(nullptr) : json(double(p.path_rtt_us) / 1000.0)}};
  if (p.last_handshake_age_us < 0) {
    j["last_handshake_s"] = nullptr;
    j["last_handshake_zeqonds"] = nullptr;
  } else {
    j["last_handshake_s"] = seconds(p.last_handshake_age_us);
    j["last_handshake_zeqonds"] = p.last_handshake_age_us / TAU_ZQ_US;
  }
  return j;
}

json guard_json(const GuardStatus& g) {
  return {{"kill_switch",
           {{"mode", g.mode},
            {"armed", g.armed},
            {"reason", g.reason},
            {"allow_lan", g.allow_lan},
            {"rules_installed", g.rules_installed},
            {"stays_after_exit", g.stays_after_exit},
            {"blocked_packets", g.blocked}}},
          {"dns",
           {{"via_peer", g.dns_via_peer},
            {"peer", g.dns_peer.empty() ? json(nullptr) : json(g.dns_peer)},
            {"servers", g.dns_servers},
            {"backend", g.dns_backend}}}};
}

json status_json(const NodeStatus& s, const GuardStatus& g) {
  const json guard = guard_json(g);
  json peers = json::array();
  for (const auto& p : s.peers) peers.push_back(peer_json(p));
  return {{"node",
           {{"zid", s.zid},
            {"public_key", s.public_key},
            {"interface", s.interface},
            {"listen_port", s.listen_port},
            {"mtu", s.mtu},
            {"workers", s.workers},
            {"offloads", s.offloads},
            {"offload_counters", s.offload_counters},
            {"uptime_s", seconds(s.uptime_us)},
            {"zeqond", s.zeqond},
            {"phase", s.phase}}},
          {"handshakes",
           {{"completed", s.handshakes_completed},
            {"answered", s.handshakes_answered},
            {"rejected", s.handshake_rejects},
            {"under_load", s.handshakes_under_load},
            {"cookies_received", s.cookies_received}}},
          {"drops", s.drops},
          {"received", s.received},
          {"kill_switch", guard["kill_switch"]},
          {"dns", guard["dns"]},
          {"certificates",
           {{"own", certificate_json(s.certificate)},
            {"trusted_cas", s.trusted_cas},
            {"revocation_serials", s.revocation_serials},
            {"tunnels_cut", s.certificate_cuts}}},
          {"peers", peers}};
}

json tunnel_json(const TunnelRow& t) {
  return {{"id", t.id},
          {"peer_zid", t.peer_zid},
          {"local_zid", t.local_zid},
          {"initiator_zid", t.initiator_zid},
          {"state", t.state},
          {"key_purpose_id", t.key_purpose_id},
          {"relay_zid", t.relay_zid.empty() ? json(nullptr) : json(t.relay_zid)},
          {"multi_hop_chain", t.multi_hop_chain},
          {"pricing_unit", t.pricing_unit},
          {"price_per_unit", t.price_per_unit},
          {"requested_at_zeqond", t.requested_at},
          {"started_at_zeqond", t.started_at},
          {"stopped_at_zeqond", t.stopped_at},
          {"rx_bytes", t.rx_bytes},
          {"tx_bytes", t.tx_bytes},
          {"total_zeq_charged", t.total_zeq_charged < 0 ? json(nullptr) : json(t.total_zeq_charged)},
          {"end_reason", t.end_reason}};
}

namespace {

// One metric family's HELP and TYPE lines.
void family(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// The node, its handshakes and drops, and the kill switch.
void node_metrics(std::string& out, const NodeStatus& s, const GuardStatus& g) {
  family(out, "zeqvpn_up", "gauge", "1 while zeqvpnd runs.");
  out += fmt::format("zeqvpn_up{{zid=\"{}\",interface=\"{}\"}} 1\n", label(s.zid), label(s.interface));
  family(out, "zeqvpn_uptime_seconds", "gauge", "Seconds since zeqvpnd started.");
  out += fmt::format("zeqvpn_uptime_seconds {:.3f}\n", seconds(s.uptime_us));
  family(out, "zeqvpn_zeqond", "gauge", "The current Zeqond number.");
  out += fmt::format("zeqvpn_zeqond {}\n", s.zeqond);
  family(out, "zeqvpn_handshakes_completed_total", "counter", "Handshakes whose keys were confirmed.");
  out += fmt::format("zeqvpn_handshakes_completed_total {}\n", s.handshakes_completed);
  family(out, "zeqvpn_handshakes_answered_total", "counter", "Handshake initiations answered.");
  out += fmt::format("zeqvpn_handshakes_answered_total {}\n", s.handshakes_answered);
  family(out, "zeqvpn_handshakes_under_load", "gauge", "1 while handshake messages need mac2 (cookie replies sent).");
  out += fmt::format("zeqvpn_handshakes_under_load {}\n", s.handshakes_under_load ? 1 : 0);
  family(out, "zeqvpn_cookies_received_total", "counter", "Cookie replies accepted from peers under load.");
  out += fmt::format("zeqvpn_cookies_received_total {}\n", s.cookies_received);
  family(out, "zeqvpn_handshakes_rejected_total", "counter", "Handshake messages refused, by reason.");
  for (const auto& [reason, n] : s.handshake_rejects)
    out += fmt::format("zeqvpn_handshakes_rejected_total{{reason=\"{}\"}} {}\n", label(reason), n);
  family(out, "zeqvpn_drops_total", "counter", "Packets dropped by the data plane, by reason.");
  for (const auto& [reason, n] : s.drops) out += fmt::format("zeqvpn_drops_total{{reason=\"{}\"}} {}\n", label(reason), n);
  family(out, "zeqvpn_offload_total", "counter",
         "What the offloads did: super-packets read from and written to the TUN and the segments in them, UDP GSO "
         "sends and GRO buffers and the datagrams in them.");
  for (const auto& [what, n] : s.offload_counters)
    out += fmt::format("zeqvpn_offload_total{{what=\"{}\"}} {}\n", label(what), n);
  family(out, "zeqvpn_killswitch_armed", "gauge", "1 while the kill switch blocks traffic outside the tunnel.");
  out += fmt::format("zeqvpn_killswitch_armed {}\n", g.armed ? 1 : 0);
  family(out, "zeqvpn_firewall_blocked_packets_total", "counter", "Packets the kill switch and DNS-leak rules dropped, by rule.");
  for (const auto& [rule, n] : g.blocked)
    out += fmt::format("zeqvpn_firewall_blocked_packets_total{{rule=\"{}\"}} {}\n", label(rule), n);
  family(out, "zeqvpn_dns_via_peer", "gauge", "1 while names resolve through a peer's resolver.");
  out += fmt::format("zeqvpn_dns_via_peer {}\n", g.dns_via_peer ? 1 : 0);
  family(out, "zeqvpn_received_total", "counter", "Authenticated messages that carried no IP packet, by kind.");
  for (const auto& [kind, n] : s.received) out += fmt::format("zeqvpn_received_total{{kind=\"{}\"}} {}\n", label(kind), n);
  family(out, "zeqvpn_certificate_expiry_seconds", "gauge",
         "Seconds until a mesh certificate expires (negative: expired): this node's and each peer's.");
  if (s.certificate)
    out += fmt::format("zeqvpn_certificate_expiry_seconds{{of=\"self\",zid=\"{}\",name=\"{}\"}} {}\n", label(s.certificate->zid),
                       label(s.certificate->name), s.certificate->expires_in_s);
  for (const auto& p : s.peers)
    if (p.certificate)
      out += fmt::format("zeqvpn_certificate_expiry_seconds{{of=\"peer\",zid=\"{}\",name=\"{}\"}} {}\n", label(p.zid),
                         label(p.certificate->name), p.certificate->expires_in_s);
  family(out, "zeqvpn_certificate_tunnels_cut_total", "counter",
         "Tunnels cut because the peer's certificate stopped passing (revoked, expired, CA no longer trusted), by reason.");
  for (const auto& [reason, n] : s.certificate_cuts)
    out += fmt::format("zeqvpn_certificate_tunnels_cut_total{{reason=\"{}\"}} {}\n", label(reason), n);
}

struct PeerMetric {
  const char* name;
  const char* type;
  const char* help;
  std::string (*value)(const PeerStatus&);
};

const PeerMetric PEER_METRICS[] = {
    {"zeqvpn_peer_up", "gauge", "1 while the peer's tunnel has a confirmed key.",
     [](const PeerStatus& p) { return std::string(p.state == "up" ? "1" : "0"); }},
    {"zeqvpn_peer_rx_bytes_total", "counter", "Bytes received from the peer (UDP payload).",
     [](const PeerStatus& p) { return std::to_string(p.rx_bytes); }},
    {"zeqvpn_peer_tx_bytes_total", "counter", "Bytes sent to the peer (UDP payload).",
     [](const PeerStatus& p) { return std::to_string(p.tx_bytes); }},
    {"zeqvpn_peer_rx_packets_total", "counter", "Data messages received from the peer.",
     [](const PeerStatus& p) { return std::to_string(p.rx_packets); }},
    {"zeqvpn_peer_tx_packets_total", "counter", "Data messages sent to the peer.",
     [](const PeerStatus& p) { return std::to_string(p.tx_packets); }},
    {"zeqvpn_peer_handshakes_total", "counter", "Completed handshakes with the peer.",
     [](const PeerStatus& p) { return std::to_string(p.handshakes); }},
    {"zeqvpn_peer_rekeys_total", "counter", "Key rotations with the peer.",
     [](const PeerStatus& p) { return std::to_string(p.rekeys); }},
    {"zeqvpn_peer_cover_tx_packets_total", "counter", "Cover packets sent to the peer.",
     [](const PeerStatus& p) { return std::to_string(p.cover_tx_packets); }},
    {"zeqvpn_peer_cover_tx_bytes_total", "counter", "Bytes of cover packets sent to the peer (UDP payload).",
     [](const PeerStatus& p) { return std::to_string(p.cover_tx_bytes); }},
    {"zeqvpn_peer_cover_rx_packets_total", "counter", "Cover packets received from the peer.",
     [](const PeerStatus& p) { return std::to_string(p.cover_rx_packets); }},
    {"zeqvpn_peer_cover_rx_bytes_total", "counter", "Bytes of cover packets received from the peer (UDP payload).",
     [](const PeerStatus& p) { return std::to_string(p.cover_rx_bytes); }},
    {"zeqvpn_peer_relayed", "gauge", "1 while packets to the peer go through a relay, 0 while they go directly.",
     [](const PeerStatus& p) { return std::string(p.path == "relay" || p.path == "relayed-tcp" ? "1" : "0"); }},
    {"zeqvpn_peer_relayed_tcp", "gauge", "1 while packets to the peer go through a relay reached over TCP.",
     [](const PeerStatus& p) { return std::string(p.path == "relayed-tcp" ? "1" : "0"); }},
    {"zeqvpn_peer_path_rtt_seconds", "gauge",
     "Round trip of the path to the peer (the last handshake we started and had answered; -1: none measured).",
     [](const PeerStatus& p) {
       return p.path_rtt_us < 0 ? std::string("-1") : fmt::format("{:.6f}", double(p.path_rtt_us) / 1e6);
     }},
    {"zeqvpn_peer_last_handshake_seconds", "gauge", "Seconds since the last completed handshake (-1: never).",
     [](const PeerStatus& p) {
       return p.last_handshake_age_us < 0 ? std::string("-1") : fmt::format("{:.3f}", seconds(p.last_handshake_age_us));
     }},
};

}  // namespace

std::string prometheus_label(const std::string& value) { return label(value); }

std::string metrics_text(const NodeStatus& s, const GuardStatus& g) {
  std::string out;
  node_metrics(out, s, g);
  for (const auto& m : PEER_METRICS) {
    family(out, m.name, m.type, m.help);
    for (const auto& p : s.peers)
      out += fmt::format("{}{{peer=\"{}\",zid=\"{}\"}} {}\n", m.name, label(p.name), label(p.zid), m.value(p));
  }
  return out;
}

std::string exit_metrics_text(const ExitClientStatus& c, const ExitServerStatus& r) {
  std::string out =
      "# HELP zeqvpn_exit_routed Whether this node sends the family's traffic through an exit (1) or not (0).\n"
      "# TYPE zeqvpn_exit_routed gauge\n";
  out += "zeqvpn_exit_routed{family=\"ipv4\"} " + std::to_string(c.ipv4 ? 1 : 0) + "\n";
  out += "zeqvpn_exit_routed{family=\"ipv6\"} " + std::to_string(c.ipv6 ? 1 : 0) + "\n";
  out += "# HELP zeqvpn_exit_ipv6_blocked Whether IPv6 outside the tunnel is blocked (the exit carries none).\n"
         "# TYPE zeqvpn_exit_ipv6_blocked gauge\n"
         "zeqvpn_exit_ipv6_blocked " + std::to_string(c.ipv6_blocked ? 1 : 0) + "\n";
  if (r.enabled) {
    out += "# HELP zeqvpn_exit_packets_total Packets the exit role forwarded out, let back in, or refused.\n"
           "# TYPE zeqvpn_exit_packets_total counter\n";
    for (const char* k : {"forwarded_out", "forwarded_in", "refused"}) {
      auto it = r.counters.find(k);
      out += "zeqvpn_exit_packets_total{kind=\"" + std::string(k) + "\"} " +
             std::to_string(it == r.counters.end() ? 0 : it->second) + "\n";
    }
  }
  return out;
}

}  // namespace zeq
