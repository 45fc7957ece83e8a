// The mesh directory (directory/): how a node learns the other nodes of its
// mesh from signed records (protocol/directory_record.hpp) that any peer,
// the state database or etcd hands it, none of which it trusts. This file:
// the records held, and the one gate every record passes to be held.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bytes.hpp"
#include "core/constants.hpp"
#include "crypto/hash.hpp"
#include "identity/certificate.hpp"
#include "protocol/directory_record.hpp"

namespace zeq {

// A record made more than this many Zeqonds ahead of the receiver's clock
// is refused: a sender cannot pre-date records to outlive its key.
inline constexpr uint64_t RECORD_MAX_FUTURE_Z = 30;
// A record made longer ago than one day (86 400 s, in Zeqonds rounded up) is
// refused and dropped: a node republishes well within that, so an older
// record is a replay or a node that is gone.
inline constexpr uint64_t RECORD_MAX_AGE_Z = (86'400'000'000 + uint64_t(TAU_ZQ_US) - 1) / uint64_t(TAU_ZQ_US);
static_assert(RECORD_MAX_AGE_Z == 111'197);
inline constexpr size_t DEFAULT_MAX_RECORDS = 10'000;

// What became of one offered record, in the order the checks are made.
// Every value but kAccepted leaves the store as it was.
enum class OfferVerdict : uint8_t {
  kAccepted,
  kMalformed,                // not the canonical encoding (or cut short)
  kUnknownIssuer,            // the certificate's (or list's) CA is not trusted
  kBadCertificateSignature,  // the CA did not sign that certificate
  kCertificateNotYetValid,
  kCertificateExpired,
  kRevoked,                  // the CA's list names the certificate or its key
  kBadRecordSignature,       // the node did not sign this record (or the CA this list)
  kFromTheFuture,            // made_z > now + RECORD_MAX_FUTURE_Z
  kTooOld,                   // made_z < now - RECORD_MAX_AGE_Z
  kRolledBack,               // a lower sequence than the record held
  kReplayed,                 // the record held, again
  kConflict,                 // the held sequence with other bytes
  kNotNewer,                 // a revocation list whose serial is not above the held one
  kFull,                     // a new ZID while max_records are held
};
inline constexpr size_t OFFER_VERDICT_COUNT = size_t(OfferVerdict::kFull) + 1;
const char* offer_verdict_name(OfferVerdict v);  // "accepted", "malformed", ...

struct OfferOutcome {
  OfferVerdict verdict = OfferVerdict::kMalformed;
  std::string detail;                // why it was refused, for a log line: the decoder's message
                                     // (field and byte), or the record's ZID and what failed
  std::vector<std::string> dropped;  // ZIDs an accepted revocation list removed
  bool accepted() const { return verdict == OfferVerdict::kAccepted; }
};

// A record the store holds, with where and when it came from.
struct HeldRecord {
  DirectoryRecord record;
  std::string source;  // whoever handed it over ("cache", a peer's ZID, ...): for display only
  uint64_t received_z = 0;
};

// The newest accepted node record per ZID and revocation list per CA.
// Records are checked against the TrustStore it is given (which must
// outlive it); accepted revocation lists are added to that store. One
// thread owns it (the daemon's control thread); it takes no lock.
class RecordStore {
 public:
  explicit RecordStore(TrustStore& trust, size_t max_records = DEFAULT_MAX_RECORDS)
      : trust_(trust), max_records_(max_records) {}

  // Takes the record only after every check (docs/protocol.md, "Directory
  // records"); counts the verdict.
  OfferOutcome offer(ByteSpan record, uint64_t now_z, std::string_view source);
  // Drops the node records that would not pass now: certificate expired or
  // not yet valid, its CA no longer trusted or its key or fingerprint
  // revoked since, or made more than RECORD_MAX_AGE_Z ago. Returns their
  // ZIDs. Cheap enough for every Zeqond: no signature is verified again.
  std::vector<std::string> expire(uint64_t now_z);
  // Drops the node record held for `zid` because whoever holds the master
  // copy withdrew it (an etcd key deleted: the node left, or its lease
  // expired). True when one was held. Withdrawing can hide a node, never add one.
  bool remove(std::string_view zid);

  // (ZID, sequence) of every node record held, sorted by ZID.
  std::vector<std::pair<std::string, uint64_t>> digest() const;
  // (CA fingerprint, serial) of every revocation list record held, sorted.
  std::vector<std::pair<Digest32, uint64_t>> revocation_digest() const;
  // SHA-256 over both digests (layout in docs/protocol.md): two stores
  // hold the same records exactly when their hashes match.
  Digest32 digest_hash() const;

  const HeldRecord* find(std::string_view zid) const;
  const std::map<std::string, HeldRecord, std::less<>>& records() const { return records_; }
  const std::map<Digest32, HeldRecord>& revocation_lists() const { return lists_; }
  size_t size() const { return records_.size(); }
  size_t max_records() const { return max_records_; }
  // Offers that ended with verdict v, since the store was made.
  uint64_t count(OfferVerdict v) const { return offers_[size_t(v)]; }
  // Held records dropped afterwards for reason v (kRevoked by a newer list
  // or expire(); kCertificateExpired, kTooOld, ... by expire()).
  uint64_t dropped_count(OfferVerdict v) const { return drops_[size_t(v)]; }

 private:
  OfferOutcome offer_node(DirectoryRecord record, uint64_t now_z, std::string_view source);
  OfferOutcome offer_revocation_list(DirectoryRecord record, uint64_t now_z, std::string_view source);
  // Drops the held records whose certificates `list` revokes.
  std::vector<std::string> drop_revoked(const RevocationList& list);
  OfferOutcome counted(OfferOutcome outcome);

  TrustStore& trust_;
  size_t max_records_;
  std::map<std::string, HeldRecord, std::less<>> records_;
  std::map<Digest32, HeldRecord> lists_;
  std::array<uint64_t, OFFER_VERDICT_COUNT> offers_{};
  std::array<uint64_t, OFFER_VERDICT_COUNT> drops_{};
};

}  // namespace zeq
