#include "identity/equation_identity.hpp"

#include "core/bytes.hpp"
#include "crypto/hash.hpp"
#include "crypto/password_hash.hpp"
#include "identity/equation.hpp"
#include "identity/js_number.hpp"

namespace zeq {

Result<EquationIdentity> equation_identity(std::string_view equation) {
  auto value = evaluate_equation(equation);
  if (!value) return value.status();
  EquationIdentity id;
  id.result = js_number_to_string(*value);
  Digest32 h = sha256({as_bytes(equation), as_bytes(":"), as_bytes(id.result)});
  id.hash.assign(h);
  // The ZID and colour show only the first 6 bytes of h.
  const std::string shown = to_hex(std::span<const uint8_t>(h).first(6));
  secure_wipe(h.data(), h.size());
  id.zid = "zeq-" + shown;
  id.colour = "#" + shown.substr(0, 6);
  return id;
}

Result<X25519Keypair> equation_keypair(const EquationIdentity& identity) {
  // hex(h), written straight into locked memory (to_hex would leave a copy
  // on the heap).
  static constexpr char kDigits[] = "0123456789abcdef";
  SecretBytes<64> password;
  for (size_t i = 0; i < 32; ++i) {
    password[2 * i] = uint8_t(kDigits[identity.hash[i] >> 4]);
    password[2 * i + 1] = uint8_t(kDigits[identity.hash[i] & 0x0F]);
  }
  const Digest32 salt = sha256(as_bytes("zeqvpn/identity"));
  Key32 key;
  if (Status s = argon2id_derive(password.span(), std::span<const uint8_t>(salt).first<ARGON2ID_SALT_BYTES>(),
                                 EQUATION_KEY_OPSLIMIT, EQUATION_KEY_MEMLIMIT, key.mutable_span());
      !s)
    return s;
  // X25519 clamping (RFC 7748): a multiple of 8, top bit clear, bit 254 set.
  key[0] &= 248;
  key[31] &= 127;
  key[31] |= 64;
  return x25519_from_private(key.span());
}

}  // namespace zeq
