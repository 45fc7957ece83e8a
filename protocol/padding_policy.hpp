// How long a data message's plaintext is on the wire, whatever it carries
// (IP packet, cover, keepalive, control). An observer sees only these lengths.
//   none:    rounded up to a multiple of 16 (the default; least overhead).
//   buckets: rounded up to the next of a fixed set of sizes, the last being
//            the TUN MTU (BUCKET_SIZES below).
//   mtu:     every plaintext is the TUN MTU long.
// Under buckets and mtu a keepalive is not empty but a padded cover-form
// plaintext (0x00 and zeros), so that no packet is smaller than the smallest
// size; the receiver counts it as cover.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/modes.hpp"

namespace zeq {

// PaddingPolicy and its names are core/modes.hpp's.

// Plaintext sizes of the buckets policy below the MTU (all multiples of 16).
inline constexpr std::array<size_t, 4> BUCKET_SIZES = {128, 256, 512, 1024};

// The padded plaintext length for `len` bytes under `policy` (a plaintext
// longer than the MTU, which the TUN never hands over, is left as it is).
size_t padded_size(PaddingPolicy policy, size_t len, size_t mtu);
// Every plaintext length the policy can produce at this MTU (for none: the
// multiples of 16 below the MTU, and the MTU), ascending: how many there
// are, the i-th one (cover sizes are drawn this way, with no allocation),
// and all of them.
size_t policy_size_count(PaddingPolicy policy, size_t mtu);
size_t policy_size(PaddingPolicy policy, size_t mtu, size_t index);
std::vector<size_t> policy_sizes(PaddingPolicy policy, size_t mtu);
// Whether an empty plaintext (a keepalive) must be padded to a cover form.
inline bool pads_keepalives(PaddingPolicy policy) { return policy != PaddingPolicy::kNone; }

}  // namespace zeq
