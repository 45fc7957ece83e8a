#include "identity/key_file.hpp"

#include <sodium.h>

#include "core/bytes.hpp"
#include "identity/zid.hpp"

namespace zeq {

std::string encode_key(std::span<const uint8_t, 32> key) {
  char out[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(out, sizeof out, key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  return out;
}

std::optional<std::array<uint8_t, 32>> decode_key(std::string_view text) {
  while (!text.empty() && isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  std::array<uint8_t, 32> key{};
  if (text.size() == 64) {
    auto bytes = from_hex(text);
    if (!bytes) return std::nullopt;
    std::copy(bytes->begin(), bytes->end(), key.begin());
    return key;
  }
  if (text.size() != 44) return std::nullopt;
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(key.data(), key.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != 32 || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return key;
}

Result<LocalIdentity> identity_from_private_key_text(std::string_view text) {
  auto key = decode_key(text);
  if (!key) return Status::error("not a private key: expected 44 base64 characters (as `zeqvpnctl genkey` prints)");
  LocalIdentity id;
  id.keypair = x25519_from_private(*key);
  secure_wipe(key->data(), key->size());
  id.zid = zid_from_public_key(id.keypair.public_key);
  return id;
}

}  // namespace zeq
