// ZIDs: "zeq-" followed by 12 lowercase hex digits. For a key-file identity
// the hex is the start of SHA256(public_key) (PROTOCOL.md section 2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace zeq {

inline constexpr size_t ZID_LENGTH = 16;

std::string zid_from_public_key(std::span<const uint8_t, 32> public_key);
bool is_valid_zid(std::string_view zid);

}  // namespace zeq
