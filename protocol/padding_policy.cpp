#include "protocol/padding_policy.hpp"

#include "protocol/ip_packet.hpp"

namespace zeq {

const char* to_string(PaddingPolicy p) {
  switch (p) {
    case PaddingPolicy::kNone: return "none";
    case PaddingPolicy::kBuckets: return "buckets";
    case PaddingPolicy::kMtu: return "mtu";
  }
  return "none";
}

std::optional<PaddingPolicy> padding_policy_from(const std::string& s) {
  if (s == "none") return PaddingPolicy::kNone;
  if (s == "buckets") return PaddingPolicy::kBuckets;
  if (s == "mtu") return PaddingPolicy::kMtu;
  return std::nullopt;
}

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

std::vector<size_t> policy_sizes(PaddingPolicy policy, size_t mtu) {
  std::vector<size_t> out;
  switch (policy) {
    case PaddingPolicy::kNone:
      for (size_t s = 16; s < mtu; s += 16) out.push_back(s);
      break;
    case PaddingPolicy::kBuckets:
      for (size_t b : BUCKET_SIZES)
        if (b < mtu) out.push_back(b);
      break;
    case PaddingPolicy::kMtu:
      break;
  }
  out.push_back(mtu);
  return out;
}

}  // namespace zeq
