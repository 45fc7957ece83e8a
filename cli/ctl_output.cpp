#include "cli/ctl_output.hpp"

#include <fmt/format.h>

namespace zeq::ctl {

using json = nlohmann::json;

std::string format_bytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.2f} {}", v, units[u]);
}

namespace {

std::string duration(double s) {
  auto t = uint64_t(s);
  if (t >= 86400) return fmt::format("{}d {}h", t / 86400, t % 86400 / 3600);
  if (t >= 3600) return fmt::format("{}h {}m", t / 3600, t % 3600 / 60);
  if (t >= 60) return fmt::format("{}m {}s", t / 60, t % 60);
  return fmt::format("{:.1f}s", s);
}

std::string join(const json& list) {
  std::string out;
  for (const auto& x : list) out += (out.empty() ? "" : ", ") + x.get<std::string>();
  return out.empty() ? "(none)" : out;
}

std::string counters(const json& map, bool skip_zero) {
  std::string out;
  for (const auto& [k, v] : map.items())
    if (!skip_zero || v.get<uint64_t>() != 0) out += fmt::format("{}{}={}", out.empty() ? "" : " ", k, v.get<uint64_t>());
  return out.empty() ? "none" : out;
}

std::string cover_line(const json& c);

// "certificate NAME from CA 1a2b3c4d, owner zeq-..., expires in 3d 4h" and a
// warning when that is less than 7 days (older daemons send nothing).
std::string certificate_line(const char* indent, const json& c) {
  if (c.is_null()) return "";
  const int64_t left = c["expires_in_s"].get<int64_t>();
  std::string out = fmt::format("{}certificate: {} (roles {}", indent, c["name"].get<std::string>(), join(c["roles"]));
  if (!c["groups"].empty()) out += fmt::format(", groups {}", join(c["groups"]));
  if (!c["owner"].is_null()) out += fmt::format(", owner {}", c["owner"].get<std::string>());
  out += fmt::format(", CA {}), ", c["issuer"].get<std::string>().substr(0, 16));
  if (left <= 0) return out + fmt::format("EXPIRED {} ago\n", duration(double(-left)));
  out += fmt::format("expires in {}", duration(double(left)));
  if (c["expires_soon"].get<bool>()) out += " -- WARNING: less than 7 days left, renew it (zeqvpnctl ca sign)";
  return out + "\n";
}

std::string peer_block(const json& p) {
  std::string label = p["name"].get<std::string>().empty() ? p["zid"].get<std::string>()
                                                           : fmt::format("{} ({})", p["name"].get<std::string>(), p["zid"].get<std::string>());
  std::string out = fmt::format("peer {}: {}\n", label, p["state"].get<std::string>());
  out += fmt::format("  public key: {}\n", p["public_key"].get<std::string>());
  out += fmt::format("  endpoint: {}", p["endpoint"].is_null() ? "(unknown)" : p["endpoint"].get<std::string>());
  // A host name is shown with what it resolved to (older daemons send none).
  if (p.contains("endpoint_host") && !p["endpoint_host"].is_null())
    out += fmt::format(" ({}{})", p["endpoint"].is_null() ? "not resolved yet: " : "", p["endpoint_host"].get<std::string>());
  out += "\n";
  // How packets reach it (older daemons send no path).
  if (p.contains("path")) {
    if (p.value("is_relay", false)) {
      out += "  a relay this node may use\n";
    } else {
      const std::string kind = p["path"].get<std::string>();
      std::string path = kind == "relay" || kind == "relayed-tcp"
                             ? fmt::format("through relay {} (channel {}{})", p["relay"].get<std::string>(),
                                           p["relay_channel"].get<uint32_t>(), kind == "relayed-tcp" ? ", over TCP" : "")
                             : std::string("direct");
      if (!p["path_rtt_ms"].is_null()) path += fmt::format(", round trip {:.1f} ms", p["path_rtt_ms"].get<double>());
      out += fmt::format("  path: {} (via: {})\n", path, p["via"].get<std::string>());
    }
  }
  // NAT traversal (older daemons and relays send none).
  if (p.contains("nat") && p["nat"].is_object()) {
    const json& n = p["nat"];
    out += fmt::format("  nat: {} (this node's NAT: {}, the peer's: {}); on the direct path {:.1f} s, relayed {:.1f} s",
                       n["phase"].get<std::string>(), n["nat"].get<std::string>(), n["peer_nat"].get<std::string>(),
                       n["direct_s"].get<double>(), n["relayed_s"].get<double>());
    // Daemons before the TCP fallback send no relayed_tcp_s.
    const double tcp_s = n.contains("relayed_tcp_s") ? n["relayed_tcp_s"].get<double>() : 0.0;
    out += tcp_s > 0 ? fmt::format(", relayed over TCP {:.1f} s\n", tcp_s) : std::string("\n");
    if (!n["candidates"].empty()) out += fmt::format("  candidate endpoints: {}\n", join(n["candidates"]));
  }
  out += fmt::format("  allowed ips: {}\n", join(p["allowed_ips"]));
  if (p.contains("certificate")) {
    out += certificate_line("  ", p["certificate"]);
    if (p["certified_only"].get<bool>())
      out += p.value("from_directory", false) ? "  known from the mesh directory (tunnel on demand)\n"
                                              : "  admitted by its certificate (not in this node's YAML)\n";
  }
  if (p["last_handshake_s"].is_null()) out += "  latest handshake: never\n";
  else
    out += fmt::format("  latest handshake: {} Zeqonds ({}) ago\n", p["last_handshake_zeqonds"].get<uint64_t>(),
                       duration(p["last_handshake_s"].get<double>()));
  out += fmt::format("  transfer: {} received, {} sent ({} / {} packets)\n", format_bytes(p["rx_bytes"]),
                     format_bytes(p["tx_bytes"]), p["rx_packets"].get<uint64_t>(), p["tx_packets"].get<uint64_t>());
  if (p.contains("cover")) out += cover_line(p["cover"]);
  out += fmt::format("  handshakes: {}, rekeys: {}", p["handshakes"].get<uint64_t>(), p["rekeys"].get<uint64_t>());
  if (p["persistent_keepalive"].get<int>() > 0) out += fmt::format(", persistent keepalive every {} s", p["persistent_keepalive"].get<int>());
  if (p["tunnel_id"].get<int64_t>() > 0) out += fmt::format(", tunnel #{}", p["tunnel_id"].get<int64_t>());
  return out + "\n";
}

std::string cover_line(const json& c) {
  return fmt::format("  cover: {}, padding {}; sent {} packets ({}), received {} packets ({})\n", c["mode"].get<std::string>(),
                     c["padding"].get<std::string>(), c["tx_packets"].get<uint64_t>(), format_bytes(c["tx_bytes"]),
                     c["rx_packets"].get<uint64_t>(), format_bytes(c["rx_bytes"]));
}

}  // namespace

std::string format_cover(const json& r) {
  std::string out;
  for (const auto& p : r["peers"]) {
    std::string label = p["name"].get<std::string>().empty() ? p["zid"].get<std::string>()
                                                             : fmt::format("{} ({})", p["name"].get<std::string>(), p["zid"].get<std::string>());
    out += fmt::format("peer {}\n", label) + cover_line(p["cover"]);
  }
  return out;
}

std::string format_guard(const json& g) {
  const json& k = g["kill_switch"];
  std::string out = fmt::format("  kill switch: {} (mode {}, {}{}{})\n", k["armed"].get<bool>() ? "armed" : "disarmed",
                                k["mode"].get<std::string>(), k["reason"].get<std::string>(),
                                k["allow_lan"].get<bool>() ? ", LAN allowed" : "",
                                k["stays_after_exit"].get<bool>() ? ", stays after exit" : "");
  if (!k["blocked_packets"].empty()) out += fmt::format("  blocked packets: {}\n", counters(k["blocked_packets"], false));
  const json& d = g["dns"];
  if (d["via_peer"].get<bool>())
    out += fmt::format("  dns: via {} ({}) through {}; other DNS blocked\n", d["peer"].get<std::string>(), join(d["servers"]),
                       d["backend"].get<std::string>());
  else
    out += fmt::format("  dns: system resolver ({})\n", d["backend"].get<std::string>());
  return out;
}

std::string format_exit(const json& e) {
  std::string out;
  const json& c = e["client"];
  auto names = [](const json& list) {
    std::string s;
    for (const auto& f : list) s += (s.empty() ? "" : " and ") + std::string(f.get<std::string>() == "ipv4" ? "IPv4" : "IPv6");
    return s.empty() ? std::string("nothing") : s;
  };
  if (c["exit"].is_null()) {
    out += "  exit: none (traffic outside the mesh leaves directly)\n";
  } else {
    out += fmt::format("  exit: {} via {} (chosen by {}; table {}, kernel rules for {})\n", names(c["routed"]),
                       c["exit"].get<std::string>(), c["chosen_by"].get<std::string>(), c["route_table"].get<uint32_t>(),
                       c["installed"].get<std::string>().empty() ? "nothing" : c["installed"].get<std::string>());
    if (c["offer_needed"].get<bool>()) out += fmt::format("    the exit offers: {}\n", names(c["offered"]));
    if (c["ipv6_blocked"].get<bool>())
      out += fmt::format("    IPv6 outside the tunnel: blocked{}\n",
                         c.contains("ipv6_blocked_packets")
                             ? fmt::format(" ({} packets)", c["ipv6_blocked_packets"].get<uint64_t>())
                             : "");
  }
  const json& r = e["role"];
  if (r["enabled"].get<bool>()) {
    out += fmt::format("  exit role: forwarding {} out of {} for {}\n", names(r["offering"]),
                       r["out_interface"].get<std::string>(), join(r["allowed_peers"]));
    for (const auto& p : r["problems"]) out += fmt::format("    not forwarding: {}\n", p.get<std::string>());
    if (!r["packets"].empty()) out += fmt::format("    packets: {}\n", counters(r["packets"], false));
  }
  if (e.contains("dns")) {
    const json& d = e["dns"];
    if (d["via_peer"].get<bool>())
      out += fmt::format("  dns: via {} ({})\n", d["peer"].get<std::string>(), join(d["servers"]));
    else
      out += fmt::format("  dns: system resolver ({})\n", d["backend"].get<std::string>());
  }
  return out;
}

std::string format_relays(const json& r) {
  std::string out;
  if (r.value("role", "") == "relay") {
    const json& o = r["offer"];
    const json& l = r["limits"];
    out += fmt::format("relay: price {} per {}{}; limits {}/s per client, {}/s per pair, {} pairs per client, burst {}\n",
                       o["price"].get<uint64_t>(), o["unit"].get<std::string>(),
                       o["region"].get<std::string>().empty() ? "" : ", region " + o["region"].get<std::string>(),
                       format_bytes(l["client_bytes_per_s"]), format_bytes(l["pair_bytes_per_s"]),
                       l["pairs_per_client"].get<uint64_t>(), format_bytes(l["queued_bytes_per_client"]));
    if (r["pairs"].empty()) out += "no pairs\n";
    for (const auto& p : r["pairs"])
      out += fmt::format("pair {}: {} -> {}{}: {} up, {} down{}\n", p["id"].get<uint64_t>(), p["requester"].get<std::string>(),
                         p["target"].get<std::string>(), p["open"].get<bool>() ? "" : " (offered)", format_bytes(p["up_bytes"]),
                         format_bytes(p["down_bytes"]),
                         p["dropped_over_limit"].get<uint64_t>() ? fmt::format(", {} dropped over limit",
                                                                               p["dropped_over_limit"].get<uint64_t>())
                                                                 : std::string());
    if (r.contains("tcp")) {  // relay over TCP (older daemons send none)
      const json& c = r["tcp"]["counters"];
      out += fmt::format("over TCP on {}: {} connections, {} accepted, {} refused, {} bad frames, {} timed out\n",
                         r["tcp"]["listen"].get<std::string>(), c["connections"].get<uint64_t>(),
                         c["accepted"].get<uint64_t>(), c["refused"].get<uint64_t>(), c["bad_frames"].get<uint64_t>(),
                         c["timeouts"].get<uint64_t>());
    }
    return out;
  }
  if (r["relays"].empty()) out += "no relays (add some under relays: in the configuration)\n";
  for (const auto& x : r["relays"]) {
    std::string state = !x["session"].get<bool>() ? "no session" : x["alive"].get<bool>() ? "up" : "not answering";
    std::string price = x["price"].is_null() ? "price unknown" : fmt::format("{} per {}", x["price"].get<uint64_t>(), x["unit"].get<std::string>());
    if (!x["price"].is_null() && !x["within_max_price"].get<bool>()) price += " (over max_price)";
    std::string rtt = x["rtt_ms"].is_null() ? "rtt unknown" : fmt::format("rtt {:.1f} ms", x["rtt_ms"].get<double>());
    out += fmt::format("relay {} ({}) at {}: {}, {}, {}{}, {} pairs\n", x["name"].get<std::string>(), x["zid"].get<std::string>(),
                       x["endpoint"].get<std::string>(), state, rtt, price,
                       x["region"].get<std::string>().empty() ? "" : ", region " + x["region"].get<std::string>(),
                       x["pairs"].get<uint64_t>());
  }
  if (r.contains("tcp"))  // relay over TCP (older daemons send none)
    for (const auto& t : r["tcp"]["relays"])
      if (t["transport"].get<std::string>() != "udp")
        out += fmt::format("  relay {}: {} TCP {} (UDP {} probed)\n", t["relay"].get<std::string>(),
                           t["transport"].get<std::string>() == "tcp" ? "over" : "connecting over",
                           t["tcp_endpoint"].is_null() ? "?" : t["tcp_endpoint"].get<std::string>(),
                           t["udp_endpoint"].get<std::string>());
  for (const auto& p : r["pairs"])
    out += fmt::format("  pair {}: {} through {} (channel {}){}{}: {} up, {} down\n", p["id"].get<uint64_t>(),
                       p["peer"].get<std::string>(), p["relay"].get<std::string>(), p["channel"].get<uint32_t>(),
                       p["requester"].get<bool>() ? ", asked by us" : ", asked by the peer",
                       p["in_use"].get<bool>() ? ", in use" : "", format_bytes(p["up_bytes"]), format_bytes(p["down_bytes"]));
  return out;
}

std::string format_directory(const json& d) {
  if (d.value("backend", "") == "off") return d.value("message", "the mesh directory is off") + "\n";
  std::string out = fmt::format("directory ({}): {} records of at most {}, digest {}\n", d["backend"].get<std::string>(),
                                d["records_held"].get<uint64_t>(), d["max_records"].get<uint64_t>(),
                                d["digest"].get<std::string>());
  out += fmt::format("{:<18}  {:<16}  {:>14}  {:>7}  {:<18}  {:<8}  {}\n", "ZID", "NAME", "SEQUENCE", "AGE_Z", "SOURCE",
                     "STATE", "ENDPOINTS");
  for (const auto& r : d["records"]) {
    std::string eps;
    for (const auto& e : r["endpoints"]) eps += (eps.empty() ? "" : " ") + e.get<std::string>();
    std::string name = r["name"].get<std::string>() + (r["self"].get<bool>() ? " (self)" : "");
    out += fmt::format("{:<18}  {:<16}  {:>14}  {:>7}  {:<18}  {:<8}  {}\n", r["zid"].get<std::string>(), name,
                       r["sequence"].get<uint64_t>(), r["age_z"].get<uint64_t>(), r["source"].get<std::string>(),
                       r["verification"].get<std::string>(), eps.empty() ? "-" : eps);
  }
  for (const auto& l : d["revocation_lists"])
    out += fmt::format("revocation list of CA {}: serial {}, {} entries (from {})\n", l["issuer"].get<std::string>(),
                       l["serial"].get<uint64_t>(), l["entries"].get<uint64_t>(), l["source"].get<std::string>());
  for (const auto& g : d["gossip"])
    out += fmt::format("gossip with {}: {}{}, {} ticks, {} records in, {} out, {} pulls, {} malformed\n",
                       g["zid"].get<std::string>(), g["up"].get<bool>() ? "up" : "down",
                       g["in_sync"].get<bool>() ? ", in sync" : "", g["ticks"].get<uint64_t>(),
                       g["records_received"].get<uint64_t>(), g["records_sent"].get<uint64_t>(),
                       g["pulls_sent"].get<uint64_t>(), g["malformed_messages"].get<uint64_t>());
  std::string rejects;
  for (const auto& [verdict, n] : d["offers"].items())
    if (verdict != "accepted" && n.get<uint64_t>()) rejects += fmt::format("{}{} {}", rejects.empty() ? "" : ", ", verdict, n.get<uint64_t>());
  out += "records refused: " + (rejects.empty() ? std::string("none") : rejects) + "\n";
  std::string plat;
  for (const auto& [verdict, n] : d["plat"]["verdicts"].items())
    if (n.get<uint64_t>()) plat += fmt::format("{}{} {}", plat.empty() ? "" : ", ", verdict, n.get<uint64_t>());
  out += fmt::format("PLAT ticks ({}): {}\n", d["plat"]["secret"].get<bool>() ? "ZEQ_SYNC_SECRET set" : "no sync secret",
                     plat.empty() ? "none yet" : plat);
  return out;
}

std::string format_status(const json& s) {
  const json& n = s["node"];
  std::string out = fmt::format("node {}\n", n["zid"].get<std::string>());
  out += fmt::format("  public key: {}\n", n["public_key"].get<std::string>());
  out += fmt::format("  interface: {}, listening on UDP {}, MTU {}, {} workers\n", n["interface"].get<std::string>(),
                     n["listen_port"].get<int>(), n["mtu"].get<int>(), n["workers"].get<int>());
  if (n.contains("offloads")) {
    out += fmt::format("  offloads: {}", n["offloads"].get<std::string>());
    const json& oc = n["offload_counters"];
    auto ratio = [&](const char* parts, const char* wholes) {
      const uint64_t w = oc.value(wholes, uint64_t(0));
      return w ? fmt::format("{:.1f}", double(oc.value(parts, uint64_t(0))) / double(w)) : std::string("-");
    };
    out += fmt::format(" (packets per TUN read {}, per TUN write {}, per UDP send {}, per UDP receive {})\n",
                       ratio("tun_segments_split", "tun_super_packets_read"),
                       ratio("tun_segments_joined", "tun_super_packets_written"),
                       ratio("udp_gso_datagrams", "udp_gso_sends"), ratio("udp_gro_datagrams", "udp_gro_buffers"));
  }
  out += fmt::format("  uptime: {}\n", duration(n["uptime_s"].get<double>()));
  out += fmt::format("  Zeqond: {}, phase {:.3f}\n", n["zeqond"].get<uint64_t>(), n["phase"].get<double>());
  const json& h = s["handshakes"];
  out += fmt::format("  handshakes: {} completed, {} answered; rejected: {}\n", h["completed"].get<uint64_t>(),
                     h["answered"].get<uint64_t>(), counters(h["rejected"], true));
  out += fmt::format("  drops: {}\n", counters(s["drops"], true));
  // NAT traversal (a node; older daemons and relays send none).
  if (s.contains("nat") && s["nat"].is_object()) {
    const json& t = s["nat"];
    out += fmt::format("  nat: {}; seen at {}\n", t["type"].get<std::string>(),
                       t["reported_endpoints"].empty() ? std::string("(no relay answered yet)") : join(t["reported_endpoints"]));
  }
  if (s.contains("certificates")) {
    const json& c = s["certificates"];
    out += certificate_line("  ", c["own"]);
    if (!c["trusted_cas"].empty()) {
      std::string cas;
      for (const auto& ca : c["trusted_cas"]) {
        const std::string fp = ca.get<std::string>();
        cas += (cas.empty() ? "" : ", ") + fp.substr(0, 16);
        if (c["revocation_serials"].contains(fp))
          cas += fmt::format(" (revocation list #{})", c["revocation_serials"][fp].get<uint64_t>());
      }
      out += fmt::format("  trusted CAs: {}\n", cas);
    }
    if (!c["tunnels_cut"].empty()) out += fmt::format("  tunnels cut by certificate: {}\n", counters(c["tunnels_cut"], true));
  }
  out += format_guard(s);
  if (s.contains("exit")) out += format_exit(s["exit"]);
  for (const auto& p : s["peers"]) out += "\n" + peer_block(p);
  return out;
}

std::string format_peers(const json& r) {
  std::string out;
  for (const auto& p : r["peers"]) out += (out.empty() ? "" : "\n") + peer_block(p);
  return out.empty() ? "no peers configured\n" : out;
}

std::string format_tunnels(const json& r) {
  if (r["tunnels"].empty()) return "no tunnels recorded yet\n";
  std::string out = fmt::format("{:>5}  {:<16}  {:<10}  {:>10}  {:>10}  {:>12}  {:>12}  {:<7}  {:>9}  {}\n", "ID", "PEER",
                                "STATE", "STARTED", "STOPPED", "RX", "TX", "BILLING", "CHARGED", "END");
  for (const auto& t : r["tunnels"]) {
    auto z = [](const json& v) { return v.get<int64_t>() ? std::to_string(v.get<int64_t>()) : std::string("-"); };
    int64_t charged = t["total_zeq_charged"].is_null() ? -1 : t["total_zeq_charged"].get<int64_t>();
    out += fmt::format("{:>5}  {:<16}  {:<10}  {:>10}  {:>10}  {:>12}  {:>12}  {:<7}  {:>9}  {}\n", t["id"].get<int64_t>(),
                       t["peer_zid"].get<std::string>(), t["state"].get<std::string>(), z(t["started_at_zeqond"]),
                       z(t["stopped_at_zeqond"]), format_bytes(t["rx_bytes"]), format_bytes(t["tx_bytes"]),
                       fmt::format("{}:{}", t["pricing_unit"].get<std::string>(), t["price_per_unit"].get<int64_t>()),
                       charged < 0 ? "-" : std::to_string(charged), t["end_reason"].get<std::string>());
  }
  return out;
}

}  // namespace zeq::ctl
