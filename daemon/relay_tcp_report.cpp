#include "daemon/relay_tcp_report.hpp"

#include <fmt/format.h>

#include "relay/relay_tcp_client.hpp"
#include "relay/relay_tcp_listener.hpp"

namespace zeq {

using json = nlohmann::json;

namespace {

json counters_json(const TcpTransportCounters& c) {
  auto n = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  return {{"connections", n(c.connections)},       {"accepted", n(c.accepted)},
          {"refused", n(c.refused)},               {"connect_failures", n(c.connect_failures)},
          {"frames_in", n(c.frames_in)},           {"frames_out", n(c.frames_out)},
          {"bytes_in", n(c.bytes_in)},             {"bytes_out", n(c.bytes_out)},
          {"bad_frames", n(c.bad_frames)},         {"timeouts", n(c.timeouts)},
          {"queue_full_drops", n(c.queue_full_drops)}, {"loopback_drops", n(c.loopback_drops)}};
}

}  // namespace

json relay_tcp_json(const RelayTcpClient* client, const RelayTcpListener* listener) {
  if (!client && !listener) return nullptr;
  json j;
  if (listener) {
    j["listen"] = listener->listen().to_string();
    j["counters"] = counters_json(listener->counters());
    return j;
  }
  json links = json::array();
  for (const auto& l : client->links())
    links.push_back({{"relay", l.relay},
                     {"transport", l.transport},
                     {"udp_endpoint", l.udp_endpoint},
                     {"tcp_endpoint", l.tcp_endpoint.empty() ? json(nullptr) : json(l.tcp_endpoint)},
                     {"fallbacks", l.fallbacks},
                     {"returns", l.returns}});
  j["relays"] = links;
  j["fallbacks"] = client->fallbacks();
  j["returns"] = client->returns();
  j["counters"] = counters_json(client->counters());
  return j;
}

std::string relay_tcp_metrics_text(const RelayTcpClient* client, const RelayTcpListener* listener) {
  if (!client && !listener) return "";
  const TcpTransportCounters& c = listener ? listener->counters() : client->counters();
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, uint64_t v) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, v);
  };
  auto n = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  metric("zeqvpn_relay_tcp_connections", "gauge", "Relay-over-TCP connections open now.", n(c.connections));
  metric("zeqvpn_relay_tcp_accepted_total", "counter",
         "Relay-over-TCP connections accepted (relay) or made (node).", n(c.accepted));
  metric("zeqvpn_relay_tcp_refused_total", "counter", "Connections over the relay's limits, closed at once.",
         n(c.refused));
  metric("zeqvpn_relay_tcp_connect_failures_total", "counter", "Connects to a relay over TCP that failed or timed out.",
         n(c.connect_failures));
  metric("zeqvpn_relay_tcp_frames_in_total", "counter", "Datagrams read off relay-over-TCP streams.", n(c.frames_in));
  metric("zeqvpn_relay_tcp_frames_out_total", "counter", "Datagrams written onto relay-over-TCP streams.",
         n(c.frames_out));
  metric("zeqvpn_relay_tcp_bad_frames_total", "counter",
         "Streams closed at a frame length of 0 or above the maximum.", n(c.bad_frames));
  metric("zeqvpn_relay_tcp_timeouts_total", "counter",
         "Streams closed idle or with a frame left unfinished too long.", n(c.timeouts));
  metric("zeqvpn_relay_tcp_queue_full_drops_total", "counter",
         "Datagrams dropped because a connection's write queue was full.", n(c.queue_full_drops));
  metric("zeqvpn_relay_tcp_loopback_drops_total", "counter", "Datagrams the loopback socket did not take.",
         n(c.loopback_drops));
  if (client) {
    metric("zeqvpn_relay_tcp_fallbacks_total", "counter", "Times a relay was reached over TCP after UDP failed.",
           client->fallbacks());
    metric("zeqvpn_relay_tcp_returns_total", "counter", "Times a relay went back from TCP to UDP.", client->returns());
  }
  return out;
}

}  // namespace zeq
