#include "identity/zid.hpp"

#include "core/bytes.hpp"
#include "crypto/hash.hpp"

namespace zeq {

std::string zid_from_public_key(std::span<const uint8_t, 32> public_key) {
  return "zeq-" + to_hex(sha256(public_key)).substr(0, 12);
}

bool is_valid_zid(std::string_view zid) {
  if (zid.size() != ZID_LENGTH || zid.substr(0, 4) != "zeq-") return false;
  for (char c : zid.substr(4)) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!hex) return false;
  }
  return true;
}

}  // namespace zeq
