// Cryptokey routing: which peer owns an inner IP address. Outgoing packets
// pick their peer by destination; incoming packets must come from a source the
// sending peer owns. A path-compressed binary trie per family, as the Linux
// kernel's WireGuard keeps (drivers/net/wireguard/allowedips.c): every node
// holds a whole prefix and its length, and a lookup compares the address with
// it in one shifted word operation (32 bits for IPv4, 128 for IPv6) before
// taking the child chosen by the next bit. So a lookup visits one node per
// branching point on its path, not one per bit (at most 128 dependent loads
// before). Nodes live in one vector per family, linked by index; the table
// is built once and then read-only, so workers share it without locks.
#pragma once

#include <cstdint>
#include <vector>

#include "core/net_address.hpp"

namespace zeq {

class AllowedIps {
 public:
  // A prefix given again replaces its peer.
  void insert(const IpPrefix& prefix, int peer_id);
  // Longest-prefix match; -1 when no prefix covers the address. family 4
  // reads 4 bytes at address, anything else 16.
  int lookup(int family, const uint8_t* address) const;

  // Nodes in the tries (prefixes and branching points): for tests and
  // benchmarks.
  size_t node_count() const { return v4_.nodes.size() + v6_.nodes.size(); }

 private:
  __extension__ typedef unsigned __int128 U128;  // __extension__: no -Wpedantic warning

  // K: an address as an unsigned integer, most significant bit first.
  template <class K>
  struct Trie {
    static constexpr unsigned BITS = sizeof(K) * 8;
    // 20 bytes for IPv4, 32 for IPv6: two or three nodes per cache line.
    struct Node {
      K key{};  // the prefix, host bits zero
      int32_t child[2] = {-1, -1};
      int32_t peer = -1;  // -1: a branching point only, no prefix of its own
      uint8_t cidr = 0;   // up to 128
    };
    std::vector<Node> nodes;
    int32_t root = -1;

    void insert(K key, unsigned cidr, int peer);
    int lookup(K key) const;
  };

  Trie<uint32_t> v4_;
  Trie<U128> v6_;
};

// The addresses both prefix sets cover, as prefixes: how a certificate's
// allowed_ips narrow what the YAML gives a peer (never widen it). Each prefix
// of `a` inside some prefix of `b`, and each prefix of `b` inside some prefix
// of `a`, without duplicates.
std::vector<IpPrefix> intersect_prefixes(const std::vector<IpPrefix>& a, const std::vector<IpPrefix>& b);

}  // namespace zeq
