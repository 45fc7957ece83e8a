#include "config/secrets.hpp"

#include <cstring>
#include <string>

#include "crypto/encoding.hpp"

namespace zeq {

namespace {

// Hex of min_digits..max_digits (even), decoded into locked memory.
Result<SecretBuffer> decode_hex_secret(const char* hex_text, const char* where, size_t min_digits, size_t max_digits,
                                       const std::string& fix) {
  size_t len = std::strlen(hex_text);
  while (len > 0 && (hex_text[len - 1] == '\n' || hex_text[len - 1] == '\r' || hex_text[len - 1] == ' ')) --len;
  if (len < min_digits || len > max_digits || len % 2 != 0) {
    std::string want = min_digits == max_digits ? "exactly " + std::to_string(min_digits)
                                                : "at least " + std::to_string(min_digits);
    return Status::error(std::string(where) + " must be " + want + " hex digits (" + std::to_string(min_digits / 2) +
                         " bytes), got " + std::to_string(len) + " characters" + fix);
  }
  SecretBytes<1024> raw;
  size_t bin_len = 0;
  if (len / 2 > raw.size() || !hex_decode(std::string_view(hex_text, len), raw.mutable_span(), &bin_len) ||
      bin_len != len / 2) {
    return Status::error(std::string(where) + " must contain only hex digits 0-9 and a-f" + fix);
  }
  return SecretBuffer(std::span<const uint8_t>(raw.data(), bin_len));
}

}  // namespace

Result<SecretBuffer> decode_mesh_secret(const char* hex_text, const char* where) {
  return decode_hex_secret(hex_text, where, 64, 2048,
                           "; generate one with `zeqvpnctl gen-secrets` or `openssl rand -hex 32` and give the same "
                           "value to every node of the mesh");
}

Result<SecretBuffer> decode_field_key(const char* hex_text, const char* where) {
  return decode_hex_secret(hex_text, where, 64, 64,
                           "; generate one with `zeqvpnctl gen-secrets` (a new key cannot open a vault sealed under "
                           "the old one)");
}

Result<SecretBuffer> decode_sync_secret(const char* hex_text, const char* where) {
  return decode_hex_secret(hex_text, where, 32, 2048,
                           "; generate one with `openssl rand -hex 32` and give the same value (and the same "
                           "ZEQ_SYNC_UID) to every node of the sync group");
}

namespace {

size_t trimmed_length(const char* text) {
  size_t len = std::strlen(text);
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) --len;
  return len;
}

}  // namespace

Result<SecretBuffer> decode_sync_uid(const char* text, const char* where) {
  const size_t len = trimmed_length(text);
  if (len == 0 || len > 64)
    return Status::error(std::string(where) + " must be 1 to 64 characters naming the sync group (the same on "
                         "every node), got " + std::to_string(len));
  for (size_t i = 0; i < len; ++i)
    if (text[i] < 0x21 || text[i] > 0x7e)
      return Status::error(std::string(where) + " must be printable ASCII without spaces (character " +
                           std::to_string(i + 1) + " is not)");
  return SecretBuffer(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text), len));
}

Result<SecretBuffer> decode_text_secret(const char* text, const char* where) {
  const size_t len = trimmed_length(text);
  if (len == 0) return Status::error(std::string(where) + " is empty");
  return SecretBuffer(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text), len));
}

}  // namespace zeq
