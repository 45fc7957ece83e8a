// Fuzz target: a directory record as any peer, the state database or etcd
// hands it over (protocol/directory_record.hpp), decoded and offered to a
// record store (directory/record_store.hpp) that trusts one CA. Properties,
// trapped when broken:
//  - what decodes is canonical: encoding its fields gives the same bytes;
//  - a node record is accepted only when the CA vouches for its certificate
//    at that Zeqond, its node signed it and it was made within the window;
//    a revocation list only when the CA signed it;
//  - offered again it is not accepted again (replayed, not_newer), and a
//    refused record leaves the store as it was.
// The trusted CA is the one of tests/data/cert-vectors.json (seed 01..20),
// so the seed corpus (corpus/directory_record/, the records of
// tests/data/record_vectors.py) reaches every check and acceptance.
#include <cstddef>
#include <cstdint>

#include "core/bytes.hpp"
#include "directory/record_store.hpp"
#include "identity/certificate.hpp"
#include "protocol/directory_record.hpp"
#include "vector_ca.hpp"

namespace {

const zeq::CaPublicKey& trusted_ca() {
  static const zeq::CaPublicKey ca{"fuzz", zeq::fuzz::vector_ca().public_key};
  return ca;
}

// Offers the record to a fresh store at now_z and checks the properties.
void offer_at(const zeq::DirectoryRecord& rec, zeq::ByteSpan input, uint64_t now_z) {
  zeq::TrustStore trust;
  trust.add_ca(trusted_ca());
  zeq::RecordStore store(trust);
  const zeq::Digest32 empty = store.digest_hash();
  const zeq::OfferOutcome first = store.offer(input, now_z, "fuzz");
  if (!first.accepted()) {
    if (store.digest_hash() != empty || store.size() != 0 || trust.revocation_list(trusted_ca().fingerprint()))
      __builtin_trap();
    return;
  }
  if (rec.kind == zeq::RecordKind::kNode) {
    const zeq::NodeRecord& node = rec.node;
    if (trust.check(node.certificate, now_z) != zeq::CertVerdict::kValid || !zeq::node_record_signature_valid(rec))
      __builtin_trap();
    if ((node.made_z > now_z && node.made_z - now_z > zeq::RECORD_MAX_FUTURE_Z) ||
        (now_z > zeq::RECORD_MAX_AGE_Z && node.made_z < now_z - zeq::RECORD_MAX_AGE_Z))
      __builtin_trap();
    if (store.size() != 1 || !store.find(node.certificate.body.zid)) __builtin_trap();
  } else if (!zeq::revocation_list_signed_by(rec.revocation_list, trusted_ca())) {
    __builtin_trap();
  }
  const zeq::Digest32 held = store.digest_hash();
  const zeq::OfferOutcome again = store.offer(input, now_z, "fuzz");
  if (again.accepted() || store.digest_hash() != held) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const zeq::ByteSpan input(data, size);
  auto rec = zeq::decode_directory_record(input);
  if (!rec) {
    // What does not decode is refused before anything else is looked at.
    zeq::TrustStore trust;
    zeq::RecordStore store(trust);
    if (store.offer(input, 0, "fuzz").verdict != zeq::OfferVerdict::kMalformed) __builtin_trap();
    return 0;
  }
  const zeq::Bytes bytes(input.begin(), input.end());
  if (rec->encoded != bytes || zeq::encode_directory_record(*rec) != bytes) __builtin_trap();
  // At the Zeqond it was made (the window holds), and one that comes from the input.
  const uint64_t made = rec->kind == zeq::RecordKind::kNode ? rec->node.made_z : rec->revocation_list.issued_z;
  offer_at(*rec, input, made);
  offer_at(*rec, input, size >= 8 ? zeq::load_be64(data + size - 8) : 0);
  return 0;
}
