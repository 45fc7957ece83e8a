// Directory records: what a node publishes about itself to the mesh
// directory (its certificate, where it can be reached, whether it relays),
// signed with its own Ed25519 key, and the CA revocation lists that travel
// beside them. One canonical binary encoding (docs/protocol.md, "Directory
// records"); pure code: the caller hands in bytes, keys and Zeqonds. Whether
// a record is *used* is directory/record_store.hpp's decision.
//
// Encoding (integers big-endian; a decoder accepts only the canonical form,
// so re-encoding what it decoded gives the same bytes):
//   "ZQD" version(1)=1 kind(1)
//   kind 1, node record (at most MAX_NODE_RECORD_BYTES in all):
//     cert_len(2) certificate          canonical certificate bytes, 1..1000
//     n(1) endpoints                   0..16, each
//       family(1)=4|6 address(4|16) port(2) flags(1)
//                                      port != 0; flags bit 0 = reported by a
//                                      peer or relay, others zero; listening
//                                      ones first, then reported ones; no
//                                      address:port twice
//     relay(1)=0|1|2 [relay_port(2)]   1: relay offered on that port (!= 0);
//       [unit(1) price(8)              2: the same with its terms: pricing
//        region_len(1) region]            unit (0 gb, 1 zeqond), integer
//                                         price, region label 0..32 bytes
//                                         of [A-Za-z0-9._-]; 1 and 2 only
//                                         with the certificate's relay role
//     sequence(8)                      >= 1
//     made_z(8)                        the Zeqond it was made
//     signature(64)                    Ed25519(certificate's signing_public,
//                                      "zeqvpn/record/v1" || every byte above)
//   kind 2, revocation list record:
//     list_len(4) list                 canonical revocation list bytes, signed
//                                      by its CA (no signature of its own)
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "core/result.hpp"
#include "core/modes.hpp"
#include "crypto/ed25519.hpp"
#include "identity/certificate.hpp"

namespace zeq {

// So that a node record fits, with room, in a few control messages.
inline constexpr size_t MAX_NODE_RECORD_BYTES = 2048;
// A revocation list grows by 33 bytes an entry; this bounds what a decoder
// takes in (about 31 700 entries), not what a CA may revoke in files.
inline constexpr size_t MAX_REVOCATION_RECORD_BYTES = size_t{1} << 20;
inline constexpr size_t MAX_RECORD_ENDPOINTS = 16;
inline constexpr uint8_t RECORD_ENDPOINT_REPORTED = 0x01;

enum class RecordKind : uint8_t { kNode = 1, kRevocationList = 2 };

// A UDP address:port a node may be reached at.
struct RecordEndpoint {
  uint8_t family = 4;                  // 4 or 6
  std::array<uint8_t, 16> address{};   // IPv4 in the first 4 bytes, the rest zero
  uint16_t port = 0;
  uint8_t flags = 0;                   // RECORD_ENDPOINT_REPORTED or 0

  bool reported() const { return flags & RECORD_ENDPOINT_REPORTED; }
  // Same family, address and port (the flags aside).
  bool same_place(const RecordEndpoint& o) const {
    return family == o.family && address == o.address && port == o.port;
  }
  std::string to_string() const;  // "192.0.2.1:51820", "[2001:db8::1]:51820"
  bool operator==(const RecordEndpoint&) const = default;
};

// A node's record as decoded or to be signed (sign_node_record ignores
// `signature` and fills it).
struct NodeRecord {
  Certificate certificate;
  std::vector<RecordEndpoint> endpoints;  // listening ones first, then reported ones
  uint16_t relay_port = 0;                // 0: no relay offered
  // The relay's terms (relay byte 2); without them (relay byte 1) a client
  // learns the price from the relay's pong (protocol/relay_messages.hpp).
  bool relay_terms = false;
  PricingUnit relay_unit = PricingUnit::kGb;
  uint64_t relay_price = 0;
  std::string relay_region;
  uint64_t sequence = 0;                  // >= 1; a newer record has a higher one
  uint64_t made_z = 0;
  Ed25519Signature signature{};
};

// One record of either kind with its canonical bytes.
struct DirectoryRecord {
  RecordKind kind = RecordKind::kNode;
  NodeRecord node;                 // kind kNode
  RevocationList revocation_list;  // kind kRevocationList
  Bytes encoded;
};

// Empty Status when the record's fields can be encoded and signed
// (endpoint rules, relay port and role, sequence, size); otherwise one line
// naming the field.
Status validate_node_record(const NodeRecord& record);
// Encodes and signs with the node's key, which must be the certificate's
// signing_public (else no node would accept the record).
Result<DirectoryRecord> sign_node_record(NodeRecord record, const Ed25519Keypair& node_key);
// Wraps a revocation list (as decoded or signed, with its bytes).
Result<DirectoryRecord> revocation_list_record(const RevocationList& list);
// Canonical bytes only; the error names the field and the byte offset.
// Decoding checks no signature.
Result<DirectoryRecord> decode_directory_record(ByteSpan bytes);
// The bytes of a decoded record, from its fields (the decoder's canonical
// check; fuzz targets hold decode and encode to each other).
Bytes encode_directory_record(const DirectoryRecord& record);
// A node record's signature by its certificate's signing_public; false for
// any other kind.
bool node_record_signature_valid(const DirectoryRecord& record);

}  // namespace zeq
