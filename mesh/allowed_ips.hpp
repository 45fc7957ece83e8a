// Cryptokey routing: which peer owns an inner IP address. Outgoing packets
// pick their peer by destination; incoming packets must come from a source the
// sending peer owns. A binary trie per family, built once and then read-only,
// so workers share it without locks; lookup cost depends on the address
// length, not on the number of peers.
#pragma once

#include <cstdint>
#include <vector>

#include "core/net_address.hpp"

namespace zeq {

class AllowedIps {
 public:
  void insert(const IpPrefix& prefix, int peer_id);
  // Longest-prefix match; -1 when no prefix covers the address.
  int lookup(int family, const uint8_t* address) const;

 private:
  struct Node {
    int32_t child[2] = {-1, -1};
    int32_t peer = -1;
  };
  std::vector<Node>& trie(int family) { return family == 4 ? v4_ : v6_; }
  std::vector<Node> v4_{Node{}};
  std::vector<Node> v6_{Node{}};
};

// The addresses both prefix sets cover, as prefixes: how a certificate's
// allowed_ips narrow what the YAML gives a peer (never widen it). Each prefix
// of `a` inside some prefix of `b`, and each prefix of `b` inside some prefix
// of `a`, without duplicates.
std::vector<IpPrefix> intersect_prefixes(const std::vector<IpPrefix>& a, const std::vector<IpPrefix>& b);

}  // namespace zeq
