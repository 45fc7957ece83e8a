#include "protocol/padding_policy.hpp"

#include "protocol/ip_packet.hpp"

namespace zeq {

size_t padded_size(PaddingPolicy policy, size_t len, size_t mtu) {
  if (len > mtu) return len;
  switch (policy) {
    case PaddingPolicy::kNone: return padded_length(len, mtu);
    case PaddingPolicy::kMtu: return mtu;
    case PaddingPolicy::kBuckets:
      for (size_t b : BUCKET_SIZES)
        if (len <= b && b < mtu) return b;
      return mtu;
  }
  return len;
}

namespace {
// Sizes below the MTU; the MTU itself is always the last size.
size_t sizes_below_mtu(PaddingPolicy policy, size_t mtu) {
  switch (policy) {
    case PaddingPolicy::kNone: return (mtu - 1) / 16;
    case PaddingPolicy::kBuckets: {
      size_t n = 0;
      while (n < BUCKET_SIZES.size() && BUCKET_SIZES[n] < mtu) ++n;
      return n;
    }
    case PaddingPolicy::kMtu: return 0;
  }
  return 0;
}
}  // namespace

size_t policy_size_count(PaddingPolicy policy, size_t mtu) { return sizes_below_mtu(policy, mtu) + 1; }

size_t policy_size(PaddingPolicy policy, size_t mtu, size_t index) {
  if (index >= sizes_below_mtu(policy, mtu)) return mtu;
  return policy == PaddingPolicy::kBuckets ? BUCKET_SIZES[index] : 16 * (index + 1);
}

std::vector<size_t> policy_sizes(PaddingPolicy policy, size_t mtu) {
  std::vector<size_t> out;
  for (size_t i = 0; i < policy_size_count(policy, mtu); ++i) out.push_back(policy_size(policy, mtu, i));
  return out;
}

}  // namespace zeq
