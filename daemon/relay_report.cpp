#include "daemon/relay_report.hpp"

#include <fmt/format.h>

#include "daemon/relay_recorder.hpp"
#include "daemon/status_json.hpp"
#include "relay/relay_client.hpp"
#include "relay/relay_service.hpp"

namespace zeq {

using json = nlohmann::json;

namespace {

json ms_or_null(int64_t us) { return us < 0 ? json(nullptr) : json(double(us) / 1000.0); }

json row_or_null(const RelayRecorder* recorder, uint64_t pair_id) {
  if (!recorder) return nullptr;
  auto row = recorder->row_of(pair_id);
  return row ? json(*row) : json(nullptr);
}

}  // namespace

json relays_json(const RelayClient* client, const RelayService* service, const RelayRecorder* recorder) {
  json j;
  if (service) {
    const auto& s = service->settings();
    j["role"] = "relay";
    j["offer"] = {{"unit", to_string(s.unit)}, {"price", s.price}, {"region", s.region}};
    j["limits"] = {{"client_bytes_per_s", s.client_bytes_per_s},
                   {"pair_bytes_per_s", s.pair_bytes_per_s},
                   {"pairs_per_client", s.pairs_per_client},
                   {"queued_bytes_per_client", s.queued_bytes_per_client}};
    json pairs = json::array();
    for (const auto& p : service->pairs())
      pairs.push_back({{"id", p.id},
                       {"requester", p.requester},
                       {"requester_zid", p.requester_zid},
                       {"target", p.target},
                       {"target_zid", p.target_zid},
                       {"open", p.open},
                       {"started_z", p.started_z},
                       {"up_bytes", p.bytes.up},
                       {"down_bytes", p.bytes.down},
                       {"dropped_over_limit", p.dropped_over_limit},
                       {"dropped_no_session", p.dropped_no_session},
                       {"tunnel_id", row_or_null(recorder, p.id)}});
    j["pairs"] = pairs;
    j["pairs_opened"] = service->pairs_opened();
    json refused = json::object();
    for (uint8_t r = 1; r <= RELAY_REASON_MAX; ++r)
      if (uint64_t n = service->refused(RelayReason(r))) refused[relay_reason_name(RelayReason(r))] = n;
    j["refused"] = refused;
    return j;
  }
  j["role"] = "node";
  json relays = json::array();
  if (client) {
    for (const auto& r : client->relays())
      relays.push_back({{"name", r.name},
                        {"zid", r.zid},
                        {"endpoint", r.endpoint},
                        {"session", r.session},
                        {"alive", r.alive},
                        {"rtt_ms", ms_or_null(r.rtt_us)},
                        {"priced", r.priced},
                        {"unit", to_string(r.unit)},
                        {"price", r.priced ? json(r.price) : json(nullptr)},
                        {"region", r.region},
                        {"within_max_price", r.within_max_price},
                        {"pairs", r.pairs}});
  }
  j["relays"] = relays;
  json pairs = json::array();
  if (client) {
    for (const auto& p : client->pairs())
      pairs.push_back({{"id", p.id},
                       {"peer", p.peer},
                       {"relay", p.relay},
                       {"channel", p.channel},
                       {"requester", p.requester},
                       {"in_use", p.in_use},
                       {"started_z", p.started_z},
                       {"up_bytes", p.bytes.up},
                       {"down_bytes", p.bytes.down},
                       {"tunnel_id", row_or_null(recorder, p.id)}});
    j["failovers"] = client->failovers();
  }
  j["pairs"] = pairs;
  return j;
}

std::string relay_metrics_text(const RelayClient* client, const RelayService* service) {
  std::string out;
  if (service) {
    uint64_t up = 0, down = 0, over = 0, open = 0;
    for (const auto& p : service->pairs()) {
      up += p.bytes.up;
      down += p.bytes.down;
      over += p.dropped_over_limit;
      open += p.open ? 1 : 0;
    }
    out += "# HELP zeqvpn_relay_pairs Pairs this relay carries now.\n# TYPE zeqvpn_relay_pairs gauge\n";
    out += fmt::format("zeqvpn_relay_pairs {}\n", open);
    out += "# HELP zeqvpn_relay_pairs_opened_total Pairs opened since start.\n# TYPE zeqvpn_relay_pairs_opened_total counter\n";
    out += fmt::format("zeqvpn_relay_pairs_opened_total {}\n", service->pairs_opened());
    out += "# HELP zeqvpn_relay_open_pair_bytes Bytes forwarded for the pairs open now, by direction.\n"
           "# TYPE zeqvpn_relay_open_pair_bytes gauge\n";
    out += fmt::format("zeqvpn_relay_open_pair_bytes{{direction=\"up\"}} {}\n", up);
    out += fmt::format("zeqvpn_relay_open_pair_bytes{{direction=\"down\"}} {}\n", down);
    out += "# HELP zeqvpn_relay_refused_total Pair requests refused, by reason.\n# TYPE zeqvpn_relay_refused_total counter\n";
    for (uint8_t r = 1; r <= RELAY_REASON_MAX; ++r)
      out += fmt::format("zeqvpn_relay_refused_total{{reason=\"{}\"}} {}\n", relay_reason_name(RelayReason(r)),
                         service->refused(RelayReason(r)));
  }
  if (client) {
    out += "# HELP zeqvpn_relay_rtt_seconds Measured round trip to each relay this node may use (-1: none yet).\n"
           "# TYPE zeqvpn_relay_rtt_seconds gauge\n";
    for (const auto& r : client->relays())
      out += fmt::format("zeqvpn_relay_rtt_seconds{{relay=\"{}\",zid=\"{}\"}} {}\n", prometheus_label(r.name),
                         prometheus_label(r.zid),
                         r.rtt_us < 0 ? std::string("-1") : fmt::format("{:.6f}", double(r.rtt_us) / 1e6));
    out += "# HELP zeqvpn_relay_failovers_total Times a peer moved to another relay because its relay stopped answering.\n"
           "# TYPE zeqvpn_relay_failovers_total counter\n";
    out += fmt::format("zeqvpn_relay_failovers_total {}\n", client->failovers());
  }
  return out;
}

}  // namespace zeq
