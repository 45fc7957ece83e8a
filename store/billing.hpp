// Usage and settlement arithmetic, in integers only (SEED-FACTS "Billing").
//  - per GB: cost = ceil(bytes / 1 000 000 000) x price_per_gb (decimal GB,
//    any started GB is charged);
//  - per Zeqond: cost = zeqonds x price_per_zeqond.
// Overflow is an error, never a wrapped number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/modes.hpp"

namespace zeq {

inline constexpr uint64_t BYTES_PER_GB = 1000000000ull;
inline constexpr uint64_t MIN_FUND_ZEQONDS = 100;

// PricingUnit and its names are core/modes.hpp's.

// nullopt on overflow.
std::optional<uint64_t> cost_per_gb(uint64_t bytes, uint64_t price_per_gb);
std::optional<uint64_t> cost_per_zeqond(uint64_t zeqonds, uint64_t price_per_zeqond);
std::optional<uint64_t> tunnel_cost(PricingUnit unit, uint64_t bytes, uint64_t zeqonds, uint64_t price);
// A tunnel may be requested only with balance >= MIN_FUND_ZEQONDS x rate.
bool sufficient_balance(uint64_t balance, uint64_t rate);

}  // namespace zeq
