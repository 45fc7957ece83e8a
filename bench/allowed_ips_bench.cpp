// Cryptokey routing lookups per second (mesh/allowed_ips.hpp) with the
// prefixes of 10 000 peers: each has an IPv4 /32 and an IPv6 /128 in the
// mesh's networks, every tenth a /24 and a /64 behind it, and one is an
// exit with the default routes. Lookups go to random addresses of those
// peers (the data path's case: every packet's source and destination),
// and the same over the trie that walked one bit per level (the one
// AllowedIps replaced, kept here for comparison).
//
// Times are the thread's CPU time per lookup.
//
// Build: cmake --build BUILD --target allowed_ips_bench; run:
// BUILD/bench/allowed_ips_bench [lookups]
#include <time.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "mesh/allowed_ips.hpp"

namespace {

using zeq::IpPrefix;

// The former AllowedIps: a binary trie, one node per bit.
class BitTrie {
 public:
  void insert(const IpPrefix& prefix, int peer) {
    auto& t = prefix.family == 4 ? v4_ : v6_;
    IpPrefix p = prefix.network();
    size_t node = 0;
    for (unsigned i = 0; i < p.length; ++i) {
      int bit = (p.addr[i / 8] >> (7 - i % 8)) & 1;
      if (t[node].child[bit] < 0) {
        t[node].child[bit] = int32_t(t.size());
        t.emplace_back();
      }
      node = size_t(t[node].child[bit]);
    }
    t[node].peer = peer;
  }
  int lookup(int family, const uint8_t* address) const {
    const auto& t = family == 4 ? v4_ : v6_;
    unsigned bits = family == 4 ? 32 : 128;
    int best = t[0].peer;
    size_t node = 0;
    for (unsigned i = 0; i < bits; ++i) {
      int32_t next = t[node].child[(address[i / 8] >> (7 - i % 8)) & 1];
      if (next < 0) break;
      node = size_t(next);
      if (t[node].peer >= 0) best = t[node].peer;
    }
    return best;
  }

 private:
  struct Node {
    int32_t child[2] = {-1, -1};
    int32_t peer = -1;
  };
  std::vector<Node> v4_{Node{}};
  std::vector<Node> v6_{Node{}};
};

struct Query {
  int family;
  std::array<uint8_t, 16> addr;
};

// The thread's CPU time, not the wall clock: on a shared machine the
// wall clock counts other processes' turns too.
double cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

template <class Table>
double ns_per_lookup(const Table& t, const std::vector<Query>& queries, size_t lookups, long& checksum) {
  const double start = cpu_ns();
  long sum = 0;
  for (size_t i = 0; i < lookups; ++i) {
    const Query& q = queries[i % queries.size()];
    sum += t.lookup(q.family, q.addr.data());
  }
  checksum = sum;
  return (cpu_ns() - start) / double(lookups);
}

// One table of `peers` peers' prefixes; false when the two tries disagree.
bool run(int peers, size_t lookups) {
  std::mt19937_64 rng(14);
  std::vector<IpPrefix> prefixes;
  std::vector<int> owners;
  auto add = [&](const char* text, int peer) {
    prefixes.push_back(*zeq::parse_ip_prefix(text));
    owners.push_back(peer);
  };
  char text[64];
  for (int p = 0; p < peers; ++p) {
    std::snprintf(text, sizeof text, "10.%d.%d.%d/32", 64 + (p >> 16), (p >> 8) & 255, p & 255);
    add(text, p);
    std::snprintf(text, sizeof text, "fd77:1:2:3::%x:%x/128", unsigned(rng() & 0xffff), p);
    add(text, p);
    if (p % 10 == 0) {
      std::snprintf(text, sizeof text, "172.%d.%d.0/24", 16 + (p >> 12), (p >> 4) & 255);
      add(text, p);
      std::snprintf(text, sizeof text, "fd00:%x:%x::/64", unsigned(p), unsigned(rng() & 0xffff));
      add(text, p);
    }
  }
  add("0.0.0.0/0", 7);
  add("::/0", 7);

  zeq::AllowedIps trie;
  BitTrie bits;
  for (size_t i = 0; i < prefixes.size(); ++i) {
    trie.insert(prefixes[i], owners[i]);
    bits.insert(prefixes[i], owners[i]);
  }
  // Addresses inside the prefixes, half IPv4, half IPv6.
  std::vector<Query> queries(1 << 16);
  for (auto& q : queries) {
    const IpPrefix& p = prefixes[rng() % prefixes.size()];
    q.family = p.family;
    q.addr = p.addr;
    for (unsigned b = p.length; b < (p.family == 4 ? 32u : 128u); ++b)
      if (rng() & 1) q.addr[b / 8] ^= uint8_t(0x80 >> (b % 8));
  }
  for (const auto& q : queries)
    if (trie.lookup(q.family, q.addr.data()) != bits.lookup(q.family, q.addr.data())) {
      std::fprintf(stderr, "mismatch between the tries\n");
      return false;
    }

  long c1 = 0, c2 = 0;
  ns_per_lookup(trie, queries, lookups / 10, c1);  // warm-up
  const double compressed = ns_per_lookup(trie, queries, lookups, c1);
  const double per_bit = ns_per_lookup(bits, queries, lookups, c2);
  std::printf("allowed_ips: %zu prefixes of %d peers, %zu trie nodes; %zu lookups (about half IPv6)\n",
              prefixes.size(), peers, trie.node_count(), lookups);
  std::printf("  path-compressed trie: %.1f ns/lookup\n", compressed);
  std::printf("  one bit per level:    %.1f ns/lookup (the former AllowedIps)\n", per_bit);
  return c1 == c2;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t lookups = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20'000'000;
  // The asked-for size, and a small mesh's (whose trie stays in L1).
  return run(10'000, lookups) && run(10, lookups) ? 0 : 1;
}
