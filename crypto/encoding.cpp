#include "crypto/encoding.hpp"

#include <sodium.h>

#include <vector>

namespace zeq {

std::string base64_encode(std::span<const uint8_t> bytes) {
  std::vector<char> out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL));
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  return std::string(out.data());
}

size_t base64_encoded_length(size_t size) {
  return sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL) - 1;
}

bool base64_encode_to(std::span<const uint8_t> bytes, std::span<char> out) {
  if (out.size() < base64_encoded_length(bytes.size()) + 1) return false;
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  return true;
}

bool base64_decode_exact(std::string_view text, std::span<uint8_t> out) {
  size_t len = 0;
  const char* end = nullptr;
  return sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                           sodium_base64_VARIANT_ORIGINAL) == 0 &&
         len == out.size() && end == text.data() + text.size();
}

bool hex_decode(std::string_view text, std::span<uint8_t> out, size_t* written) {
  const char* end = nullptr;
  return sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, written, &end) == 0 &&
         end == text.data() + text.size();
}

}  // namespace zeq
