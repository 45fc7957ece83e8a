// GossipPeer (directory/gossip.hpp): digest ticks page by page, pulls of
// what the peer holds newer, records sent within the budgets, and every
// record received offered to the RecordStore.
#include "directory/gossip.hpp"

#include <algorithm>
#include <limits>

#include "protocol/control_message.hpp"
#include "protocol/directory_record.hpp"

namespace zeq {

namespace {

// Queue, pull and refusal keys: a node record's ZID (16 characters), or a
// revocation list's issuer as its 32 raw bytes; the lengths tell them apart.
std::string list_key(const Digest32& issuer) { return std::string(issuer.begin(), issuer.end()); }

bool is_list_key(const std::string& key) { return key.size() == 32; }

Digest32 issuer_of(const std::string& key) {
  Digest32 d{};
  std::copy_n(key.begin(), d.size(), d.begin());
  return d;
}

// Pages a round still needs for this many node entries and lists (lists
// follow the last node entries in the same page).
size_t pages_needed(size_t nodes, size_t lists) {
  auto ceil_div = [](size_t a, size_t b) { return (a + b - 1) / b; };
  if (nodes == 0) return ceil_div(lists, DIGEST_PAGE_LISTS);
  const size_t extra_lists = lists > DIGEST_PAGE_LISTS ? lists - DIGEST_PAGE_LISTS : 0;
  return ceil_div(nodes, DIGEST_PAGE_ENTRIES) + ceil_div(extra_lists, DIGEST_PAGE_LISTS);
}

}  // namespace

const Digest32& DigestHashCache::get(const RecordStore& store, uint64_t now_z) {
  if (!valid_ || z_ != now_z) {
    hash_ = store.digest_hash();
    z_ = now_z;
    valid_ = true;
  }
  return hash_;
}

GossipPeer::GossipPeer(const GossipContext& ctx, std::string peer_zid) : ctx_(ctx), peer_(std::move(peer_zid)) {
  if (ctx_.sync) plat_.emplace(*ctx_.sync);
}

// --- Sending ----------------------------------------------------------------------

std::vector<Bytes> GossipPeer::tick(uint64_t now_z) {
  std::vector<Bytes> out;
  expire(now_z);
  // Due, or the clock went back past the last tick (tick now rather than
  // wait for the old schedule).
  if (now_z >= next_tick_z_ || now_z + GOSSIP_TICK_EVERY_Z < next_tick_z_) {
    digest_tick(now_z, out);
    next_tick_z_ = now_z + GOSSIP_TICK_EVERY_Z;
  }
  drain(now_z, out);
  return out;
}

void GossipPeer::digest_tick(uint64_t now_z, std::vector<Bytes>& out) {
  ++stats_.ticks;
  const RecordStore& store = ctx_.store;
  DigestPage head;
  head.zeqond = now_z;
  head.record_count = uint32_t(std::min<size_t>(store.size() + store.revocation_lists().size(),
                                                std::numeric_limits<uint32_t>::max()));
  head.digest_hash = ctx_.digest.get(store, now_z);
  if (plat_) head.plat = plat_->next(now_z, head.digest_hash);
  const bool peer_same = peer_hash_ && *peer_hash_ == head.digest_hash && now_z <= peer_hash_z_ + GOSSIP_PEER_HASH_FRESH_Z;
  if (peer_same || head.record_count == 0) {
    // Nothing to page through: a summary keeps the PLAT chain and the
    // peer's view of our hash current. The next difference starts a round.
    cursor_ = Cursor{};
    if (auto m = encode_digest_page(head)) {
      out.push_back(std::move(m.value()));
      ++stats_.summaries_sent;
    }
    return;
  }
  for (size_t i = 0; i < GOSSIP_PAGES_PER_TICK; ++i) {
    DigestPage page = head;
    if (!next_page(page)) break;
    auto m = encode_digest_page(page);
    if (!m) break;  // cannot happen: the store holds only valid ZIDs
    out.push_back(std::move(m.value()));
    ++stats_.digest_pages_sent;
    if (!cursor_.started) break;  // the round ended with this page; the next one starts at the next tick
  }
}

bool GossipPeer::next_page(DigestPage& p) {
  const auto& records = ctx_.store.records();
  const auto& lists = ctx_.store.revocation_lists();
  // Twice at most: when what was left of a round is gone, the next round starts.
  for (int attempt = 0; attempt < 2; ++attempt) {
    p.entries.clear();
    p.lists.clear();
    bool nodes_done = cursor_.in_lists;
    if (!cursor_.in_lists) {
      auto it = cursor_.started ? records.upper_bound(cursor_.after_zid) : records.begin();
      for (; it != records.end() && p.entries.size() < DIGEST_PAGE_ENTRIES; ++it)
        p.entries.push_back({it->first, it->second.record.node.sequence});
      nodes_done = it == records.end();
    }
    bool lists_done = false;
    if (nodes_done) {
      auto it = cursor_.issuer_started ? lists.upper_bound(cursor_.after_issuer) : lists.begin();
      for (; it != lists.end() && p.lists.size() < DIGEST_PAGE_LISTS; ++it)
        p.lists.push_back({it->first, it->second.record.revocation_list.serial});
      lists_done = it == lists.end();
    }
    if (p.entries.empty() && p.lists.empty()) {
      const bool fresh = !cursor_.started;
      cursor_ = Cursor{};
      if (fresh) return false;  // nothing held at all
      continue;
    }
    cursor_.started = true;
    cursor_.in_lists = nodes_done;
    if (!p.entries.empty()) cursor_.after_zid = p.entries.back().zid;
    if (!p.lists.empty()) {
      cursor_.after_issuer = p.lists.back().issuer;
      cursor_.issuer_started = true;
    }
    cursor_.nodes_sent += uint32_t(p.entries.size());
    cursor_.lists_sent += uint32_t(p.lists.size());
    p.page = std::min<uint16_t>(cursor_.page, 65534);
    if (nodes_done && lists_done) {
      p.pages = uint16_t(p.page + 1);
      cursor_ = Cursor{};
    } else {
      // An estimate from the counts now: the store may change mid-round.
      const size_t nodes_left = nodes_done || records.size() <= cursor_.nodes_sent ? 0 : records.size() - cursor_.nodes_sent;
      const size_t lists_left = lists.size() > cursor_.lists_sent ? lists.size() - cursor_.lists_sent : 0;
      const size_t after = std::max<size_t>(1, pages_needed(nodes_left, lists_left));
      p.pages = uint16_t(std::min<size_t>(65535, p.page + 1 + after));
      ++cursor_.page;
    }
    return true;
  }
  return false;
}

void GossipPeer::refill(uint64_t now_z) {
  if (!budget_started_ || now_z > budget_z_) budget_ = GOSSIP_RECORD_BYTES_PER_Z;
  budget_z_ = now_z;
  budget_started_ = true;
}

const Bytes* GossipPeer::held_bytes(const std::string& key) const {
  if (is_list_key(key)) {
    auto it = ctx_.store.revocation_lists().find(issuer_of(key));
    return it == ctx_.store.revocation_lists().end() ? nullptr : &it->second.record.encoded;
  }
  const HeldRecord* held = ctx_.store.find(key);
  return held ? &held->record.encoded : nullptr;
}

void GossipPeer::drain(uint64_t now_z, std::vector<Bytes>& out) {
  refill(now_z);
  size_t round = GOSSIP_RECORD_BYTES_PER_ROUND;
  auto affordable = [&](size_t n) { return n <= round && n <= budget_; };
  auto spend = [&](size_t n) {
    round -= n;
    budget_ -= n;
  };
  // Whole records gather in one message until the next does not fit; the
  // spans point into the store, which nothing changes while this runs.
  std::vector<ByteSpan> batch;
  size_t batch_bytes = 0;
  auto flush = [&] {
    if (batch.empty()) return;
    if (auto m = encode_records(batch)) {
      stats_.record_bytes_sent += m->size();
      out.push_back(std::move(m.value()));
      ++stats_.records_messages_sent;
      stats_.records_sent += batch.size();
    }
    batch.clear();
    batch_bytes = 0;
  };
  for (;;) {
    if (outgoing_) {
      flush();
      auto f = record_fragment(outgoing_->record_id, outgoing_->record, outgoing_->next);
      if (!f) {
        outgoing_.reset();
        continue;
      }
      const size_t size = 2 + 9 + f->bytes.size();
      if (!affordable(size)) break;
      auto m = encode_record_fragment(*f);
      if (!m) {
        outgoing_.reset();
        continue;
      }
      spend(m->size());
      stats_.record_bytes_sent += m->size();
      out.push_back(std::move(m.value()));
      ++stats_.fragments_sent;
      if (++outgoing_->next == outgoing_->count) {
        outgoing_.reset();
        ++stats_.records_sent;
      }
      continue;
    }
    if (queue_.empty()) break;
    const Bytes* rec = held_bytes(queue_.front());
    if (!rec) {  // dropped or expired since it was asked for
      queue_.pop_front();
      ++stats_.not_held;
      continue;
    }
    if (rec->size() > RECORD_WHOLE_MAX) {
      queue_.pop_front();
      if (rec->size() > FRAGMENTED_RECORD_MAX) {
        ++stats_.too_large;
        continue;
      }
      outgoing_ = Outgoing{next_record_id_++, *rec, 0, record_fragment_count(rec->size())};
      continue;
    }
    if (batch.size() == 255 || records_message_size(batch.size() + 1, batch_bytes + rec->size()) > 2 + DIRECTORY_BODY_MAX)
      flush();
    const size_t cost = batch.empty() ? records_message_size(1, rec->size()) : 2 + rec->size();
    if (!affordable(cost)) break;
    spend(cost);
    batch.push_back(*rec);
    batch_bytes += rec->size();
    queue_.pop_front();
  }
  flush();
}

bool GossipPeer::enqueue(std::string key) {
  if (std::find(queue_.begin(), queue_.end(), key) != queue_.end()) return true;
  if (queue_.size() >= GOSSIP_SEND_QUEUE_MAX) return false;
  queue_.push_back(std::move(key));
  return true;
}

bool GossipPeer::push(std::string_view zid) {
  if (!ctx_.store.find(zid)) return false;
  return enqueue(std::string(zid));
}

bool GossipPeer::push_revocation_list(const Digest32& issuer) {
  if (!ctx_.store.revocation_lists().count(issuer)) return false;
  return enqueue(list_key(issuer));
}

// --- Receiving --------------------------------------------------------------------

void GossipPeer::expire(uint64_t now_z) {
  for (auto it = outstanding_.begin(); it != outstanding_.end();) {
    if (now_z >= it->second + GOSSIP_PULL_RETRY_Z)
      it = outstanding_.erase(it);
    else
      ++it;
  }
  reassembler_.expire(now_z);
}

Result<GossipOutput> GossipPeer::on_message(ByteSpan plaintext, uint64_t now_z) {
  GossipOutput out;
  expire(now_z);
  const auto type = control_type(plaintext);
  auto malformed = [&](const Status& s) -> Result<GossipOutput> {
    ++stats_.malformed_messages;
    return Status::error("directory message from " + peer_ + ": " + s.message());
  };
  if (type == CONTROL_DIRECTORY_DIGEST) {
    auto page = decode_digest_page(plaintext);
    if (!page) return malformed(page.status());
    on_digest(*page, now_z, out);
  } else if (type == CONTROL_DIRECTORY_PULL) {
    auto pull = decode_pull(plaintext);
    if (!pull) return malformed(pull.status());
    on_pull(*pull, now_z, out);
  } else if (type == CONTROL_DIRECTORY_RECORDS) {
    auto records = decode_records(plaintext);
    if (!records) return malformed(records.status());
    on_records(std::move(records.value()), now_z, out);
  } else {
    return malformed(Status::error(type ? "control type " + std::to_string(*type) +
                                              " is not a directory message (0x03 to 0x05)"
                                        : std::string("not a control message")));
  }
  return out;
}

bool GossipPeer::wants(const std::string& key, uint64_t version, uint64_t held_version, bool held, uint64_t now_z) {
  if (held && held_version >= version) return false;
  if (outstanding_.count(key)) return false;
  if (auto r = refused_.find(key); r != refused_.end() && r->second.version >= version && now_z < r->second.z + GOSSIP_REFUSED_RETRY_Z)
    return false;
  return true;
}

void GossipPeer::on_digest(const DigestPage& page, uint64_t now_z, GossipOutput& out) {
  ++stats_.digest_pages_received;
  const PlatVerdict v = ctx_.plats.check(peer_, page.zeqond, page.digest_hash, page.plat);
  ++stats_.plat[size_t(v)];
  out.plat = v;
  // A PLAT flag is logged and counted, never a reason to refuse records:
  // their signatures, not the chain, decide what the store takes.
  peer_hash_ = page.digest_hash;
  peer_hash_z_ = now_z;
  peer_count_ = page.record_count;
  const RecordStore& store = ctx_.store;
  if (page.digest_hash == ctx_.digest.get(store, now_z)) {
    ++stats_.in_sync_pages;
    return;
  }
  PullRequest pull;
  auto room = [&] {
    return outstanding_.size() + pull.zids.size() + pull.issuers.size() < GOSSIP_OUTSTANDING_MAX;
  };
  for (const auto& e : page.entries) {
    if (pull.zids.size() >= PULL_MAX_ZIDS || !room()) break;
    const HeldRecord* held = store.find(e.zid);
    if (!held && store.size() >= store.max_records()) {
      ++stats_.skipped_full;  // the store would refuse it as full
      continue;
    }
    if (wants(e.zid, e.sequence, held ? held->record.node.sequence : 0, held != nullptr, now_z))
      pull.zids.push_back(e.zid);
  }
  for (const auto& l : page.lists) {
    if (pull.issuers.size() >= PULL_MAX_LISTS || !room()) break;
    auto held = store.revocation_lists().find(l.issuer);
    const bool have = held != store.revocation_lists().end();
    if (wants(list_key(l.issuer), l.serial, have ? held->second.record.revocation_list.serial : 0, have, now_z))
      pull.issuers.push_back(l.issuer);
  }
  if (pull.zids.empty() && pull.issuers.empty()) return;
  auto m = encode_pull(pull);  // sorted and bounded: the page's entries were
  if (!m) return;
  for (const auto& z : pull.zids) outstanding_[z] = now_z;
  for (const auto& i : pull.issuers) outstanding_[list_key(i)] = now_z;
  out.replies.push_back(std::move(m.value()));
  ++stats_.pulls_sent;
  stats_.records_pulled += pull.zids.size() + pull.issuers.size();
}

void GossipPeer::on_pull(const PullRequest& pull, uint64_t now_z, GossipOutput& out) {
  ++stats_.pulls_received;
  stats_.records_requested += pull.zids.size() + pull.issuers.size();
  for (const auto& z : pull.zids)
    if (!enqueue(z)) ++stats_.requests_dropped;
  for (const auto& i : pull.issuers)
    if (!enqueue(list_key(i))) ++stats_.requests_dropped;
  drain(now_z, out.replies);
}

void GossipPeer::on_records(RecordsMessage msg, uint64_t now_z, GossipOutput& out) {
  if (msg.fragment) {
    ++stats_.fragments_received;
    if (auto whole = reassembler_.add(*msg.fragment, now_z)) offer(*whole, now_z, out);
    return;
  }
  for (const auto& rec : msg.records) offer(rec, now_z, out);
}

void GossipPeer::offer(const Bytes& record, uint64_t now_z, GossipOutput& out) {
  ++stats_.records_received;
  if (now_z != offers_z_) {
    offers_z_ = now_z;
    offers_ = 0;
  }
  if (offers_ >= GOSSIP_OFFERS_PER_Z) {
    ++stats_.over_budget;
    return;
  }
  ++offers_;
  // Which record it says it is, to match it with a pull and remember a
  // refusal; the store decodes it again and decides.
  std::string key;
  uint64_t version = 0;
  if (auto decoded = decode_directory_record(record)) {
    if (decoded->kind == RecordKind::kNode) {
      key = decoded->node.certificate.body.zid;
      version = decoded->node.sequence;
    } else {
      key = list_key(decoded->revocation_list.issuer);
      version = decoded->revocation_list.serial;
    }
  }
  OfferOutcome outcome = ctx_.store.offer(record, now_z, peer_);
  ++stats_.verdicts[size_t(outcome.verdict)];
  if (!key.empty()) {
    if (auto it = outstanding_.find(key); it != outstanding_.end())
      outstanding_.erase(it);
    else
      ++stats_.unsolicited;
  }
  if (outcome.accepted()) {
    ctx_.digest.invalidate();
    refused_.erase(key);
    if (!is_list_key(key)) out.accepted.push_back(key);
    out.dropped.insert(out.dropped.end(), outcome.dropped.begin(), outcome.dropped.end());
    return;
  }
  if (!key.empty()) remember_refused(key, version, now_z);
  out.refused.push_back(std::move(outcome));
}

void GossipPeer::remember_refused(const std::string& key, uint64_t version, uint64_t now_z) {
  if (refused_.size() >= GOSSIP_REFUSED_MEMORY && !refused_.count(key)) {
    for (auto it = refused_.begin(); it != refused_.end();) {
      if (now_z >= it->second.z + GOSSIP_REFUSED_RETRY_Z)
        it = refused_.erase(it);
      else
        ++it;
    }
    if (refused_.size() >= GOSSIP_REFUSED_MEMORY) return;  // still full: pulled again, refused again, no harm
  }
  refused_[key] = Refused{version, now_z};
}

}  // namespace zeq
