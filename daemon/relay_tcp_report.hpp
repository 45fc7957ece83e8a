// What `zeqvpnctl relays` and the metrics show of relay over TCP
// (relay/relay_tcp_client.hpp on a node, relay/relay_tcp_listener.hpp on a
// relay): per relay, the transport in use; the connections' counters.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace zeq {

class RelayTcpClient;
class RelayTcpListener;

// Null when neither is there (relay_choice.tcp_port off, relay.tcp_listen off).
nlohmann::json relay_tcp_json(const RelayTcpClient* client, const RelayTcpListener* listener);
std::string relay_tcp_metrics_text(const RelayTcpClient* client, const RelayTcpListener* listener);

}  // namespace zeq
