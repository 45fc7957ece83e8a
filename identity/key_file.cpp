#include "identity/key_file.hpp"

#include <cctype>

#include "crypto/encoding.hpp"
#include "identity/zid.hpp"

namespace zeq {

std::string encode_key(std::span<const uint8_t, 32> key) { return base64_encode(key); }

std::optional<std::array<uint8_t, 32>> decode_key(std::string_view text) {
  while (!text.empty() && isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  // Decoded straight into the result: a private key leaves no copy behind.
  std::array<uint8_t, 32> key{};
  size_t written = 0;
  bool ok = text.size() == 64   ? hex_decode(text, key, &written) && written == key.size()
            : text.size() == 44 ? base64_decode_exact(text, key)
                                : false;
  if (!ok) return std::nullopt;
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
