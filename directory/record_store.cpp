// RecordStore (directory/record_store.hpp): the acceptance rules of
// docs/protocol.md "Directory records", in their order, and what a newer
// revocation list or the passing of time takes away.
#include "directory/record_store.hpp"

#include <algorithm>

namespace zeq {

namespace {

OfferVerdict verdict_of(CertVerdict v) {
  switch (v) {
    case CertVerdict::kValid: return OfferVerdict::kAccepted;
    case CertVerdict::kUnknownIssuer: return OfferVerdict::kUnknownIssuer;
    case CertVerdict::kBadSignature: return OfferVerdict::kBadCertificateSignature;
    case CertVerdict::kNotYetValid: return OfferVerdict::kCertificateNotYetValid;
    case CertVerdict::kExpired: return OfferVerdict::kCertificateExpired;
    case CertVerdict::kRevoked: return OfferVerdict::kRevoked;
    case CertVerdict::kKeyMismatch: break;  // a handshake's check, never TrustStore::check's
  }
  return OfferVerdict::kBadCertificateSignature;
}

// The window a record's made_z must fall in at now_z (kAccepted when it does).
OfferVerdict window_verdict(uint64_t made_z, uint64_t now_z) {
  if (made_z > now_z && made_z - now_z > RECORD_MAX_FUTURE_Z) return OfferVerdict::kFromTheFuture;
  if (now_z > made_z && now_z - made_z > RECORD_MAX_AGE_Z) return OfferVerdict::kTooOld;
  return OfferVerdict::kAccepted;
}

}  // namespace

const char* offer_verdict_name(OfferVerdict v) {
  switch (v) {
    case OfferVerdict::kAccepted: return "accepted";
    case OfferVerdict::kMalformed: return "malformed";
    case OfferVerdict::kUnknownIssuer: return "unknown_issuer";
    case OfferVerdict::kBadCertificateSignature: return "bad_certificate_signature";
    case OfferVerdict::kCertificateNotYetValid: return "certificate_not_yet_valid";
    case OfferVerdict::kCertificateExpired: return "certificate_expired";
    case OfferVerdict::kRevoked: return "revoked";
    case OfferVerdict::kBadRecordSignature: return "bad_record_signature";
    case OfferVerdict::kFromTheFuture: return "from_the_future";
    case OfferVerdict::kTooOld: return "too_old";
    case OfferVerdict::kRolledBack: return "rolled_back";
    case OfferVerdict::kReplayed: return "replayed";
    case OfferVerdict::kConflict: return "conflict";
    case OfferVerdict::kNotNewer: return "not_newer";
    case OfferVerdict::kFull: return "full";
  }
  return "unknown";
}

OfferOutcome RecordStore::counted(OfferOutcome outcome) {
  ++offers_[size_t(outcome.verdict)];
  return outcome;
}

OfferOutcome RecordStore::offer(ByteSpan bytes, uint64_t now_z, std::string_view source) {
  auto record = decode_directory_record(bytes);
  if (!record) return counted({OfferVerdict::kMalformed, record.message(), {}});
  if (record->kind == RecordKind::kRevocationList)
    return counted(offer_revocation_list(std::move(record.value()), now_z, source));
  return counted(offer_node(std::move(record.value()), now_z, source));
}

OfferOutcome RecordStore::offer_node(DirectoryRecord record, uint64_t now_z, std::string_view source) {
  const NodeRecord& node = record.node;
  const std::string zid = node.certificate.body.zid;  // a copy: the record moves into the store below
  // For the log line: whose record, and why it was refused.
  auto refused = [&](OfferVerdict v, const std::string& why) {
    return OfferOutcome{v, "record of " + zid + " (" + node.certificate.body.name + "): " + why, {}};
  };
  // 1. The certificate: chain to a trusted CA, dates, revocation.
  if (CertVerdict c = trust_.check(node.certificate, now_z); c != CertVerdict::kValid)
    return refused(verdict_of(c), std::string("certificate ") + cert_verdict_name(c) + " at Zeqond " +
                                      std::to_string(now_z));
  // 2. The node's own signature over the whole record.
  if (!node_record_signature_valid(record))
    return refused(OfferVerdict::kBadRecordSignature,
                   "the signature does not verify under the certificate's signing key (forged or altered)");
  // 3. Made within the window around now.
  if (OfferVerdict v = window_verdict(node.made_z, now_z); v == OfferVerdict::kFromTheFuture)
    return refused(v, "made at Zeqond " + std::to_string(node.made_z) + ", " + std::to_string(node.made_z - now_z) +
                          " ahead of this node's clock (at most " + std::to_string(RECORD_MAX_FUTURE_Z) +
                          "; is either clock wrong?)");
  else if (v == OfferVerdict::kTooOld)
    return refused(v, "made at Zeqond " + std::to_string(node.made_z) + ", " + std::to_string(now_z - node.made_z) +
                          " ago (at most " + std::to_string(RECORD_MAX_AGE_Z) + ", one day)");
  // 4. Newer than the record held for that ZID, never back.
  auto held = records_.find(zid);
  if (held != records_.end()) {
    const uint64_t held_sequence = held->second.record.node.sequence;
    const std::string sequences =
        "sequence " + std::to_string(node.sequence) + ", held " + std::to_string(held_sequence);
    if (node.sequence < held_sequence) return refused(OfferVerdict::kRolledBack, sequences);
    if (node.sequence == held_sequence && held->second.record.encoded == record.encoded)
      return refused(OfferVerdict::kReplayed, sequences);
    if (node.sequence == held_sequence) return refused(OfferVerdict::kConflict, sequences + " with other bytes");
  } else if (records_.size() >= max_records_) {
    return refused(OfferVerdict::kFull, std::to_string(records_.size()) + " records held, the most this node keeps");
  }
  HeldRecord entry{std::move(record), std::string(source), now_z};
  if (held != records_.end())
    held->second = std::move(entry);
  else
    records_.emplace(zid, std::move(entry));
  return {OfferVerdict::kAccepted};
}

OfferOutcome RecordStore::offer_revocation_list(DirectoryRecord record, uint64_t now_z, std::string_view source) {
  const RevocationList& list = record.revocation_list;
  // A list has no node signature and no window: its CA's signature vouches
  // for it and its serial orders it; an old list stays in force until a
  // newer one replaces it.
  auto refused = [&](OfferVerdict v, const std::string& why) {
    return OfferOutcome{v, "revocation list of CA " + to_hex(list.issuer) + ": " + why, {}};
  };
  const auto& cas = trust_.cas();
  auto ca = std::find_if(cas.begin(), cas.end(), [&](const CaPublicKey& c) { return c.fingerprint() == list.issuer; });
  if (ca == cas.end()) return refused(OfferVerdict::kUnknownIssuer, "not a trusted CA");
  if (!revocation_list_signed_by(list, *ca))
    return refused(OfferVerdict::kBadRecordSignature, "the CA's signature does not verify (forged or altered)");
  if (auto mine = lists_.find(list.issuer); mine != lists_.end() && list.serial <= mine->second.record.revocation_list.serial)
    return refused(OfferVerdict::kNotNewer, "serial " + std::to_string(list.serial) + ", held " +
                                                std::to_string(mine->second.record.revocation_list.serial));
  // The trust store may hold the list already (the node's own files gave it
  // before it was offered as a record): then the record is that list,
  // byte for byte, and the store starts holding (and serving) it.
  const RevocationList* trusted = trust_.revocation_list(list.issuer);
  if (trusted && list.serial < trusted->serial)
    return refused(OfferVerdict::kNotNewer,
                   "serial " + std::to_string(list.serial) + ", in force " + std::to_string(trusted->serial));
  if (trusted && list.serial == trusted->serial) {
    if (trusted->encoded != list.encoded)
      return refused(OfferVerdict::kConflict, "serial " + std::to_string(list.serial) + " with other entries than the list in force");
  } else if (Status s = trust_.add_revocation_list(list); !s) {
    return {OfferVerdict::kNotNewer, s.message(), {}};
  }
  OfferOutcome outcome{OfferVerdict::kAccepted, "", drop_revoked(list)};
  const Digest32 issuer = list.issuer;
  lists_.insert_or_assign(issuer, HeldRecord{std::move(record), std::string(source), now_z});
  return outcome;
}

std::vector<std::string> RecordStore::drop_revoked(const RevocationList& list) {
  std::vector<std::string> dropped;
  for (auto it = records_.begin(); it != records_.end();) {
    const Certificate& cert = it->second.record.node.certificate;
    if (cert.body.issuer == list.issuer && list.revokes(cert)) {
      dropped.push_back(it->first);
      ++drops_[size_t(OfferVerdict::kRevoked)];
      it = records_.erase(it);
    } else {
      ++it;
    }
  }
  return dropped;
}

std::vector<std::string> RecordStore::expire(uint64_t now_z) {
  std::vector<Digest32> trusted;
  for (const auto& ca : trust_.cas()) trusted.push_back(ca.fingerprint());
  std::vector<std::string> dropped;
  for (auto it = records_.begin(); it != records_.end();) {
    const NodeRecord& node = it->second.record.node;
    const CertificateBody& cert = node.certificate.body;
    const RevocationList* list = trust_.revocation_list(cert.issuer);
    OfferVerdict why = OfferVerdict::kAccepted;
    if (std::find(trusted.begin(), trusted.end(), cert.issuer) == trusted.end())
      why = OfferVerdict::kUnknownIssuer;
    else if (now_z < cert.not_before_z)
      why = OfferVerdict::kCertificateNotYetValid;
    else if (now_z >= cert.not_after_z)
      why = OfferVerdict::kCertificateExpired;
    else if (list && list->revokes(node.certificate))
      why = OfferVerdict::kRevoked;
    else if (window_verdict(node.made_z, now_z) == OfferVerdict::kTooOld)
      why = OfferVerdict::kTooOld;
    if (why == OfferVerdict::kAccepted) {
      ++it;
      continue;
    }
    ++drops_[size_t(why)];
    dropped.push_back(it->first);
    it = records_.erase(it);
  }
  return dropped;
}

std::vector<std::pair<std::string, uint64_t>> RecordStore::digest() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  out.reserve(records_.size());
  for (const auto& [zid, held] : records_) out.emplace_back(zid, held.record.node.sequence);
  return out;  // std::map: sorted by ZID already
}

std::vector<std::pair<Digest32, uint64_t>> RecordStore::revocation_digest() const {
  std::vector<std::pair<Digest32, uint64_t>> out;
  out.reserve(lists_.size());
  for (const auto& [issuer, held] : lists_) out.emplace_back(issuer, held.record.revocation_list.serial);
  return out;
}

Digest32 RecordStore::digest_hash() const {
  // be32(n) n × (zid(16) sequence(8)) be32(m) m × (issuer(32) serial(8));
  // every ZID held is 16 bytes (the certificate decoder's rule).
  Bytes bytes;
  bytes.reserve(8 + records_.size() * 24 + lists_.size() * 40);
  append_be32(bytes, uint32_t(records_.size()));
  for (const auto& [zid, sequence] : digest()) {
    bytes.insert(bytes.end(), zid.begin(), zid.end());
    append_be64(bytes, sequence);
  }
  append_be32(bytes, uint32_t(lists_.size()));
  for (const auto& [issuer, serial] : revocation_digest()) {
    bytes.insert(bytes.end(), issuer.begin(), issuer.end());
    append_be64(bytes, serial);
  }
  return sha256(bytes);
}

const HeldRecord* RecordStore::find(std::string_view zid) const {
  auto it = records_.find(zid);
  return it == records_.end() ? nullptr : &it->second;
}

bool RecordStore::remove(std::string_view zid) {
  auto it = records_.find(zid);
  if (it == records_.end()) return false;
  records_.erase(it);
  return true;
}

}  // namespace zeq
