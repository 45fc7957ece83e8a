// What status, `zeqvpnctl peers` and the metrics show of NAT traversal
// (relay/nat_traversal.hpp): this node's NAT type and reported endpoints,
// and per peer the hole-punching phase, the peer's NAT type and candidate
// endpoints, and the time spent on the direct and the relayed path.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace zeq {

class NatTraversal;
class Node;

// The node's part ("nat" in status); null when NAT traversal is off.
nlohmann::json nat_json(const NatTraversal* nat);
// One peer's part ("nat" in each peer); null when not tracked.
nlohmann::json nat_peer_json(const NatTraversal* nat, const Node& node, const std::string& zid);
std::string nat_metrics_text(const NatTraversal* nat, const Node& node);

}  // namespace zeq
