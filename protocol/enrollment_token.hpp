// Invite tokens for `zeqvpnctl mesh join` (docs/protocol.md, "Onboarding
// (mesh join)"): one line of text that names the mesh, its bootstrap node
// (static X25519 key and TCP endpoints) and carries the invite's id and its
// one-time secret. Pure: encoding and strict decoding only.
//
// Text: "zqi1." + base64url without padding of
//   "ZQI" version(1)=1
//   mesh_id(32)                 SHA256 of the mesh CA's Ed25519 key (its fingerprint)
//   name_len(1) mesh name       1..64 of [A-Za-z0-9._-]
//   invite_id(16)
//   secret(32)                  the one-time secret (the handshake's psk)
//   bootstrap_key(32)           the bootstrap node's static X25519 key
//   expires_z(8)                the last Zeqond the invite may be used
//   n(1) endpoints: family(1)=4|6 address(4|16) port(2)   1..4, TCP
// Nothing may follow; a decoder accepts only this form.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/net_address.hpp"
#include "core/result.hpp"
#include "crypto/hash.hpp"
#include "crypto/secret_bytes.hpp"
#include "crypto/x25519.hpp"

namespace zeq::enroll {

inline constexpr std::string_view TOKEN_PREFIX = "zqi1.";
inline constexpr size_t MAX_TOKEN_ENDPOINTS = 4;
inline constexpr size_t MAX_TOKEN_TEXT = 512;

using InviteId = std::array<uint8_t, 16>;

struct InviteToken {
  Digest32 mesh_id{};
  std::string mesh_name;
  InviteId invite_id{};
  Key32 secret;
  PublicKey bootstrap_key{};
  uint64_t expires_z = 0;
  std::vector<UdpEndpoint> endpoints;  // TCP endpoints, kept as socket addresses
};

// The text form; the result holds the secret (the caller wipes it).
std::string encode_token(const InviteToken& token);
// One line saying what is wrong (never echoing the token) on any deviation.
Result<InviteToken> decode_token(std::string_view text);

// Endpoint family/address/port encoding shared with the wire messages.
void append_endpoint(Bytes& out, const UdpEndpoint& endpoint);
// Reads one endpoint at p (advancing it); false when malformed.
bool read_endpoint(const uint8_t*& p, const uint8_t* end, UdpEndpoint& out);

}  // namespace zeq::enroll
