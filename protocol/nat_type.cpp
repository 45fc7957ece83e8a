#include "protocol/nat_type.hpp"

#include <algorithm>

namespace zeq {

NatType classify_nat(const std::vector<UdpEndpoint>& observed, const std::vector<UdpEndpoint>& local) {
  if (observed.empty()) return NatType::kUnknown;
  std::vector<UdpEndpoint> outside;
  for (const auto& ep : observed)
    if (std::find(local.begin(), local.end(), ep) == local.end()) outside.push_back(ep);
  if (outside.empty()) return NatType::kNone;
  for (const auto& ep : outside)
    if (!(ep == outside.front())) return NatType::kSymmetric;
  return outside.size() >= 2 ? NatType::kEndpointIndependent : NatType::kUnknown;
}

bool punch_worthwhile(NatType ours, NatType theirs) {
  return !(ours == NatType::kSymmetric && theirs == NatType::kSymmetric);
}

}  // namespace zeq
