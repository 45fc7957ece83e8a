#include "mesh/allowed_ips.hpp"

#include <algorithm>

namespace zeq {

void AllowedIps::insert(const IpPrefix& prefix, int peer_id) {
  auto& t = trie(prefix.family);
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
  t[node].peer = peer_id;
}

int AllowedIps::lookup(int family, const uint8_t* address) const {
  const auto& t = family == 4 ? v4_ : v6_;
  unsigned bits = family == 4 ? 32 : 128;
  int best = t[0].peer;
  size_t node = 0;
  for (unsigned i = 0; i < bits; ++i) {
    int bit = (address[i / 8] >> (7 - i % 8)) & 1;
    int32_t next = t[node].child[bit];
    if (next < 0) break;
    node = size_t(next);
    if (t[node].peer >= 0) best = t[node].peer;
  }
  return best;
}

namespace {

bool covers(const IpPrefix& outer, const IpPrefix& inner) {
  return outer.family == inner.family && outer.length <= inner.length && outer.contains(inner.family, inner.addr.data());
}

}  // namespace

std::vector<IpPrefix> intersect_prefixes(const std::vector<IpPrefix>& a, const std::vector<IpPrefix>& b) {
  std::vector<IpPrefix> out;
  auto add = [&](const IpPrefix& p) {
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  for (const auto& x : a)
    for (const auto& y : b) {
      if (covers(y, x)) add(x);
      else if (covers(x, y)) add(y);
    }
  return out;
}

}  // namespace zeq
