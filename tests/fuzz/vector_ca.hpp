// The mesh authority of tests/data/cert-vectors.json (seed 01..20), written
// in here because a fuzz target must not read files: the certificate and
// revocation list targets trust it, so their seed corpus (those vectors)
// reaches the signature check and the valid verdicts.
#pragma once

#include <algorithm>
#include <array>

#include "core/bytes.hpp"
#include "crypto/ed25519.hpp"

namespace zeq::fuzz {

inline constexpr char VECTOR_CA_SEED_HEX[] = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";

inline Ed25519Keypair vector_ca() {
  std::array<uint8_t, 32> seed{};
  const Bytes bytes = *from_hex(VECTOR_CA_SEED_HEX);
  std::copy(bytes.begin(), bytes.end(), seed.begin());
  return ed25519_from_seed(seed);
}

}  // namespace zeq::fuzz
