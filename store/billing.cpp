#include "store/billing.hpp"

namespace zeq {

namespace {
std::optional<uint64_t> mul(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}
}  // namespace

std::optional<uint64_t> cost_per_gb(uint64_t bytes, uint64_t price_per_gb) {
  uint64_t gb = bytes / BYTES_PER_GB + (bytes % BYTES_PER_GB != 0 ? 1 : 0);
  return mul(gb, price_per_gb);
}

std::optional<uint64_t> cost_per_zeqond(uint64_t zeqonds, uint64_t price_per_zeqond) {
  return mul(zeqonds, price_per_zeqond);
}

std::optional<uint64_t> tunnel_cost(PricingUnit unit, uint64_t bytes, uint64_t zeqonds, uint64_t price) {
  return unit == PricingUnit::kGb ? cost_per_gb(bytes, price) : cost_per_zeqond(zeqonds, price);
}

bool sufficient_balance(uint64_t balance, uint64_t rate) {
  auto need = mul(MIN_FUND_ZEQONDS, rate);
  return need && balance >= *need;
}

}  // namespace zeq
