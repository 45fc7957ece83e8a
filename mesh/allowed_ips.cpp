#include "mesh/allowed_ips.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace zeq {

namespace {

template <class K>
constexpr unsigned bits_of() {
  return sizeof(K) * 8;
}

// The first `cidr` bits set.
template <class K>
K mask_of(unsigned cidr) {
  return cidr == 0 ? K(0) : K(~K(0) << (bits_of<K>() - cidr));
}

// Whether key starts with the node's prefix: the bits past its length
// shifted out, one XOR and compare (a shift by the full width is undefined,
// hence the length 0 case).
template <class K>
bool matches(K key, K prefix, unsigned cidr) {
  return cidr == 0 || ((key ^ prefix) >> (bits_of<K>() - cidr)) == 0;
}

// Which child of a node of length `cidr` the key goes on to: the key's bit
// just after the node's prefix (cidr < bits).
template <class K>
int choose(unsigned cidr, K key) {
  return int((key >> (bits_of<K>() - 1 - cidr)) & 1);
}

// Leading bits a and b have in common.
template <class K>
unsigned common_bits(K a, K b) {
  K x = a ^ b;
  if constexpr (sizeof(K) == 4) {
    return unsigned(std::countl_zero(uint32_t(x)));
  } else {
    const uint64_t hi = uint64_t(x >> 64);
    return hi ? unsigned(std::countl_zero(hi)) : 64 + unsigned(std::countl_zero(uint64_t(x)));
  }
}

uint32_t load_v4(const uint8_t* a) {
  uint32_t w;
  std::memcpy(&w, a, 4);
  return __builtin_bswap32(w);  // network order: the first byte is the most significant
}

template <class U128>
U128 load_v6(const uint8_t* a) {
  uint64_t hi, lo;
  std::memcpy(&hi, a, 8);
  std::memcpy(&lo, a + 8, 8);
  return (U128(__builtin_bswap64(hi)) << 64) | __builtin_bswap64(lo);
}

}  // namespace

// The kernel's add(): find the deepest node whose prefix covers the new one
// (stopping at an exact match, which just takes the new peer); hang the new
// node below it, and where the new prefix and the child in its way part
// before either ends, put a branching node at the bits they share.
template <class K>
void AllowedIps::Trie<K>::insert(K key, unsigned cidr, int peer) {
  key &= mask_of<K>(cidr);
  auto make = [this](K k, unsigned c, int p) {
    Node n;
    n.key = k;
    n.cidr = uint8_t(c);
    n.peer = p;
    nodes.push_back(n);
    return int32_t(nodes.size() - 1);
  };
  int32_t parent = -1;
  for (int32_t n = root; n >= 0 && nodes[size_t(n)].cidr <= cidr && matches<K>(key, nodes[size_t(n)].key, nodes[size_t(n)].cidr);) {
    parent = n;
    if (nodes[size_t(n)].cidr == cidr) {
      nodes[size_t(n)].peer = peer;
      return;
    }
    n = nodes[size_t(n)].child[choose<K>(nodes[size_t(n)].cidr, key)];
  }
  const int32_t fresh = make(key, cidr, peer);
  // The link the new node goes in at: below parent, or the root.
  auto link = [this, parent](K k) -> int32_t& {
    return parent < 0 ? root : nodes[size_t(parent)].child[choose<K>(nodes[size_t(parent)].cidr, k)];
  };
  const int32_t down = link(key);
  if (down < 0) {
    link(key) = fresh;
    return;
  }
  const K down_key = nodes[size_t(down)].key;
  const unsigned shared = std::min(cidr, common_bits<K>(down_key, key));
  if (shared == cidr) {  // the new prefix covers the node in its way
    nodes[size_t(fresh)].child[choose<K>(cidr, down_key)] = down;
    link(key) = fresh;
    return;
  }
  const int32_t branch = make(key & mask_of<K>(shared), shared, -1);
  nodes[size_t(branch)].child[choose<K>(shared, down_key)] = down;
  nodes[size_t(branch)].child[choose<K>(shared, key)] = fresh;
  link(key) = branch;
}

// The kernel's find_node(): down while the node's prefix matches, keeping
// the last one that names a peer.
template <class K>
int AllowedIps::Trie<K>::lookup(K key) const {
  int best = -1;
  const Node* base = nodes.data();
  for (int32_t n = root; n >= 0;) {
    const Node& node = base[n];
    if (!matches<K>(key, node.key, node.cidr)) break;
    if (node.peer >= 0) best = node.peer;
    if (node.cidr == BITS) break;
    n = node.child[choose<K>(node.cidr, key)];
  }
  return best;
}

void AllowedIps::insert(const IpPrefix& prefix, int peer_id) {
  if (prefix.family == 4)
    v4_.insert(load_v4(prefix.addr.data()), std::min<unsigned>(prefix.length, 32), peer_id);
  else
    v6_.insert(load_v6<U128>(prefix.addr.data()), std::min<unsigned>(prefix.length, 128), peer_id);
}

int AllowedIps::lookup(int family, const uint8_t* address) const {
  return family == 4 ? v4_.lookup(load_v4(address)) : v6_.lookup(load_v6<U128>(address));
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
