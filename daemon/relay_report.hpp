// What `zeqvpnctl relays` and the metrics show of relays: on a node, the
// relays it may use (session, round trip, price, whether within max_price)
// and its relayed pairs; on a relay, its price, limits and the pairs it
// carries. JSON for the control socket, Prometheus text for metrics.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace zeq {

class RelayClient;
class RelayRecorder;
class RelayService;

nlohmann::json relays_json(const RelayClient* client, const RelayService* service, const RelayRecorder* recorder);
std::string relay_metrics_text(const RelayClient* client, const RelayService* service);

}  // namespace zeq
