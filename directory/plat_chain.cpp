// PLAT chains (directory/plat_chain.hpp): the HMAC link, the sending end of
// a link and the receiver's per-sender heads.
#include "directory/plat_chain.hpp"

namespace zeq {

namespace {

bool same(const Plat& a, const Plat& b) { return constant_time_equal(a, b); }

}  // namespace

Result<SyncSecret> SyncSecret::make(ByteSpan secret, ByteSpan uid) {
  if (secret.size() < SYNC_SECRET_MIN_BYTES || secret.size() > SYNC_SECRET_MAX_BYTES)
    return Status::error("ZEQ_SYNC_SECRET is " + std::to_string(secret.size()) + " bytes; give " +
                         std::to_string(SYNC_SECRET_MIN_BYTES) + " to " + std::to_string(SYNC_SECRET_MAX_BYTES) +
                         " (32 random bytes is right), the same on every member of the sync group");
  if (uid.empty() || uid.size() > SYNC_UID_MAX_BYTES)
    return Status::error("ZEQ_SYNC_UID is " + std::to_string(uid.size()) + " bytes; give 1 to " +
                         std::to_string(SYNC_UID_MAX_BYTES) + ", the same on every member of the sync group");
  return SyncSecret(secret, uid);
}

Plat plat_next(const SyncSecret& sync, const Plat& prev, uint64_t zeqond, const Digest32& digest_hash) {
  uint8_t z[8];
  store_be64(z, zeqond);
  Plat out;
  hmac_sha256(sync.key(), {prev, ByteSpan(z, 8), sync.uid(), digest_hash}, out);
  return out;
}

Plat PlatSender::next(uint64_t zeqond, const Digest32& digest_hash) {
  if (started_ && zeqond <= last_z_) {
    head_ = PLAT_ZERO;
    ++restarts_;
  }
  head_ = plat_next(sync_, head_, zeqond, digest_hash);
  last_z_ = zeqond;
  started_ = true;
  return head_;
}

const char* plat_verdict_name(PlatVerdict v) {
  switch (v) {
    case PlatVerdict::kLinked: return "linked";
    case PlatVerdict::kSameTick: return "same_tick";
    case PlatVerdict::kStarted: return "started";
    case PlatVerdict::kJoined: return "joined";
    case PlatVerdict::kUnchecked: return "unchecked";
    case PlatVerdict::kMissing: return "missing";
    case PlatVerdict::kRewound: return "rewound";
    case PlatVerdict::kBroken: return "broken";
  }
  return "unknown";
}

PlatVerdict PlatReceiver::counted(Head* head, PlatVerdict v) {
  ++counts_[size_t(v)];
  if (head) ++head->counts[size_t(v)];
  return v;
}

PlatVerdict PlatReceiver::check(std::string_view sender, uint64_t zeqond, const Digest32& digest_hash,
                                const std::optional<Plat>& plat) {
  if (!sync_) return counted(nullptr, PlatVerdict::kUnchecked);
  auto it = heads_.find(sender);
  Head* head = it == heads_.end() ? nullptr : &it->second;
  if (!plat) return counted(head, PlatVerdict::kMissing);
  auto move_head = [&](Head* h) {
    h->zeqond = zeqond;
    h->digest_hash = digest_hash;
    h->plat = *plat;
  };
  const bool from_zero = same(*plat, plat_next(*sync_, PLAT_ZERO, zeqond, digest_hash));
  if (!head) {
    if (heads_.size() >= max_senders_) return counted(nullptr, PlatVerdict::kUnchecked);
    head = &heads_.emplace(std::string(sender), Head{}).first->second;
    move_head(head);
    if (from_zero) head->start = *plat;
    return counted(head, from_zero ? PlatVerdict::kStarted : PlatVerdict::kJoined);
  }
  if (zeqond == head->zeqond && digest_hash == head->digest_hash && same(*plat, head->plat))
    return counted(head, PlatVerdict::kSameTick);
  if (zeqond <= head->zeqond) {
    // A new chain at an earlier Zeqond is the sender starting over with its
    // clock gone back: flagged, and followed from there. A late copy of
    // this chain's own first tick is not.
    if (from_zero && !same(*plat, head->start)) {
      move_head(head);
      head->start = *plat;
    }
    return counted(head, PlatVerdict::kRewound);
  }
  PlatVerdict v = PlatVerdict::kBroken;
  if (same(*plat, plat_next(*sync_, head->plat, zeqond, digest_hash))) {
    v = PlatVerdict::kLinked;
  } else if (from_zero) {
    v = PlatVerdict::kStarted;
    head->start = *plat;
  }
  move_head(head);
  return counted(head, v);
}

const PlatReceiver::Head* PlatReceiver::head(std::string_view sender) const {
  auto it = heads_.find(sender);
  return it == heads_.end() ? nullptr : &it->second;
}

}  // namespace zeq
