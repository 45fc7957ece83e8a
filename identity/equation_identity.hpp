// Zeq Auth equation identities (PROTOCOL.md section 2): what an equation
// names. Its value r (as JavaScript writes it), h = SHA256(equation ":" r),
// the ZID and avatar colour from h, and the node's X25519 key pair from
// Argon2id over h. An equation is a secret like a passphrase; so is h, since
// the key follows from it. Pure code, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "crypto/secret_bytes.hpp"
#include "crypto/x25519.hpp"

namespace zeq {

// Argon2id cost of an equation key (PROTOCOL.md: opslimit 3, memlimit 64 MiB).
inline constexpr uint64_t EQUATION_KEY_OPSLIMIT = 3;
inline constexpr size_t EQUATION_KEY_MEMLIMIT = size_t(64) << 20;

// The public face of an equation and the hash its key comes from.
struct EquationIdentity {
  std::string result;  // r: the value as Number#toString writes it
  Key32 hash;          // h = SHA256(equation ":" r); secret (the key's password)
  std::string zid;     // "zeq-" + hex(h)[0:12]
  std::string colour;  // "#" + hex(h)[0:6]
};

// The identity of an equation taken exactly as given (no trimming), or why
// and where the equation is refused (see identity/equation.hpp).
Result<EquationIdentity> equation_identity(std::string_view equation);

// The node key pair of an equation identity: Argon2id13(out 32 bytes,
// password = hex(h) as 64 lowercase ASCII digits, salt =
// SHA256("zeqvpn/identity")[0:16], 3 passes, 64 MiB), clamped for X25519.
// Takes 64 MiB and a fraction of a second; fails only if that memory cannot
// be had.
Result<X25519Keypair> equation_keypair(const EquationIdentity& identity);

}  // namespace zeq
