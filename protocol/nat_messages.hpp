// NAT traversal messages (docs/protocol.md, "NAT traversal"): in-tunnel
// control messages (plaintext 0x01 || type || body, zero-padded), control
// types 0x1A..0x1E of the 0x10..0x1F range the relays reserved.
//
//   0x1A Observe      any node -> a peer it reaches directly (a relay):
//                     "from which address:port do you see me?"
//   0x1B Observed     the answer: the address:port the sender saw
//   0x1C Candidates   end <-> end, inside the two ends' own session, sent
//                     the way the session goes (through the relay while
//                     relayed): the sender's NAT type and candidate
//                     endpoints; an answer also means "punch now"
//   0x1D Probe        end -> end, sent straight to a candidate endpoint
//                     under the ends' session (the hole punch itself, and
//                     later the direct path's liveness probe)
//   0x1E ProbeReply   the answer, sent straight back; carries where the
//                     prober was seen from
//
// Pure code: encoders, and parsers that accept one canonical form only
// (every field present and valid, zero padding only after the body).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/bytes.hpp"
#include "core/net_address.hpp"

namespace zeq {

inline constexpr uint8_t CONTROL_NAT_OBSERVE = 0x1A;
inline constexpr uint8_t CONTROL_NAT_OBSERVED = 0x1B;
inline constexpr uint8_t CONTROL_NAT_CANDIDATES = 0x1C;
inline constexpr uint8_t CONTROL_NAT_PROBE = 0x1D;
inline constexpr uint8_t CONTROL_NAT_PROBE_REPLY = 0x1E;
inline bool is_nat_control(uint8_t type) { return type >= CONTROL_NAT_OBSERVE && type <= CONTROL_NAT_PROBE_REPLY; }

// What a node has found out about the NAT in front of it (nat_type.hpp).
enum class NatType : uint8_t {
  kUnknown = 0,              // fewer than two observers answered
  kNone = 1,                 // observers see a local address and the listen port
  kEndpointIndependent = 2,  // one public address:port for every destination
  kSymmetric = 3,            // another public port (or address) per destination
};
inline constexpr uint8_t NAT_TYPE_MAX = 3;
const char* nat_type_name(NatType t);  // unknown, none, endpoint-independent, symmetric

inline constexpr size_t NAT_MAX_CANDIDATES = 16;
inline constexpr uint8_t NAT_CANDIDATES_ANSWER = 0x01;  // flags bit 0

struct NatObserve { uint64_t nonce = 0; };
struct NatObserved { uint64_t nonce = 0; UdpEndpoint seen; };
struct NatCandidates {
  uint64_t token = 0;
  bool answer = false;
  NatType nat = NatType::kUnknown;
  std::vector<UdpEndpoint> candidates;  // at most NAT_MAX_CANDIDATES, none twice
};
struct NatProbe { uint64_t token = 0; uint64_t nonce = 0; };
struct NatProbeReply { uint64_t nonce = 0; UdpEndpoint seen; };

Bytes encode_nat_observe(const NatObserve& m);
Bytes encode_nat_observed(const NatObserved& m);
Bytes encode_nat_candidates(const NatCandidates& m);
Bytes encode_nat_probe(const NatProbe& m);
Bytes encode_nat_probe_reply(const NatProbeReply& m);

std::optional<NatObserve> parse_nat_observe(ByteSpan plaintext);
std::optional<NatObserved> parse_nat_observed(ByteSpan plaintext);
std::optional<NatCandidates> parse_nat_candidates(ByteSpan plaintext);
std::optional<NatProbe> parse_nat_probe(ByteSpan plaintext);
std::optional<NatProbeReply> parse_nat_probe_reply(ByteSpan plaintext);

// An endpoint a node may send to: a family-4 (v4-mapped) or 6 address that
// is not unspecified, multicast or loopback, and a port other than 0.
bool nat_endpoint_usable(const UdpEndpoint& ep);

}  // namespace zeq
