// Directory sync messages (protocol/directory_messages.hpp): the layouts of
// docs/protocol.md "Directory sync (gossip) and PLAT ticks", their
// canonical encoding, and the reassembly of fragmented records.
#include "protocol/directory_messages.hpp"

#include <algorithm>

#include "identity/zid.hpp"
#include "protocol/wire.hpp"

namespace zeq {

namespace {

constexpr size_t BODY_OFFSET = 2;  // 0x01 type
constexpr uint8_t RECORDS_WHOLE = 0x00;
constexpr uint8_t RECORDS_FRAGMENT = 0x01;

template <typename Bytesish>
void put(Bytes& out, const Bytesish& b) {
  out.insert(out.end(), b.begin(), b.end());
}

// Reads one directory message front to back; every refusal names the
// message, the field and the byte offset where the field starts.
class Reader {
 public:
  Reader(ByteSpan in, const char* message, uint8_t type) : in_(in), message_(message), type_(type) {}

  // The 0x01 and type bytes.
  bool header() {
    if (!need(2, "header")) return false;
    if (in_[0] != wire::PLAINTEXT_CONTROL)
      return fail(0, "kind", "0x" + to_hex(in_.first(1)) + " is not a control message (0x01)");
    if (in_[1] != type_)
      return fail(1, "type", "control type 0x" + to_hex(in_.subspan(1, 1)) + ", expected 0x" +
                                 to_hex(ByteSpan(&type_, 1)));
    pos_ = BODY_OFFSET;
    return true;
  }
  // Whether n more bytes are there; the error says where it ended otherwise.
  bool need(size_t n, const std::string& field) {
    if (in_.size() - pos_ >= n) return true;
    return fail(pos_, field, "the message ends after " + std::to_string(in_.size()) + " bytes, " +
                                 std::to_string(n - (in_.size() - pos_)) + " more needed (cut short?)");
  }
  bool fail(size_t at, const std::string& field, const std::string& why) {
    error_ = Status::error(std::string(message_) + " byte " + std::to_string(at) + " (" + field + "): " + why);
    return false;
  }
  // The body's end: within DIRECTORY_BODY_MAX, and only zeros after it.
  bool end() {
    if (pos_ - BODY_OFFSET > DIRECTORY_BODY_MAX)
      return fail(BODY_OFFSET + DIRECTORY_BODY_MAX, "size",
                  "a body of " + std::to_string(pos_ - BODY_OFFSET) + " bytes; at most " +
                      std::to_string(DIRECTORY_BODY_MAX) + " fit one message");
    for (size_t i = pos_; i < in_.size(); ++i)
      if (in_[i] != 0) return fail(i, "padding", "a non-zero byte after the body (the padding is zeros)");
    return true;
  }
  size_t pos() const { return pos_; }
  uint8_t u8() { return in_[pos_++]; }
  uint16_t u16() {
    const uint16_t v = load_be16(in_.data() + pos_);
    pos_ += 2;
    return v;
  }
  uint32_t u32() {
    const uint32_t v = load_be32(in_.data() + pos_);
    pos_ += 4;
    return v;
  }
  uint64_t u64() {
    const uint64_t v = load_be64(in_.data() + pos_);
    pos_ += 8;
    return v;
  }
  ByteSpan take(size_t n) {
    ByteSpan s = in_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  Digest32 digest() {
    Digest32 d;
    std::copy_n(in_.begin() + long(pos_), d.size(), d.begin());
    pos_ += d.size();
    return d;
  }
  // A 16-byte ZID strictly after `after` (when there is one).
  bool zid(const std::string& field, const std::string* after, std::string& out) {
    const size_t at = pos_;
    if (!need(ZID_LENGTH, field)) return false;
    const ByteSpan b = take(ZID_LENGTH);
    out.assign(b.begin(), b.end());
    if (!is_valid_zid(out)) return fail(at, field, "not a ZID (\"zeq-\" and 12 lowercase hex digits)");
    if (after && out <= *after) return fail(at, field, out + " is not after " + *after + " (ZIDs strictly ascending)");
    return true;
  }
  // A 32-byte issuer strictly after `after` (when there is one).
  bool issuer(const std::string& field, const Digest32* after, Digest32& out) {
    const size_t at = pos_;
    if (!need(32, field)) return false;
    out = digest();
    if (after && out <= *after) return fail(at, field, "not after the one before (issuers strictly ascending)");
    return true;
  }
  const Status& error() const { return error_; }

 private:
  ByteSpan in_;
  const char* message_;
  uint8_t type_;
  size_t pos_ = 0;
  Status error_;
};

Bytes header(uint8_t type) { return Bytes{wire::PLAINTEXT_CONTROL, type}; }

// The encoders write the fields, then hold the bytes to the decoder, so one
// set of rules decides what is sent and what is taken.
template <typename T>
Result<Bytes> checked(Bytes out, Result<T> (*decode)(ByteSpan), const char* what) {
  auto back = decode(out);
  if (!back) return Status::error(std::string("cannot encode this ") + what + ": " + back.message());
  return out;
}

}  // namespace

// --- Digest ---------------------------------------------------------------------

Result<Bytes> encode_digest_page(const DigestPage& p) {
  if (p.entries.size() > DIGEST_PAGE_ENTRIES || p.lists.size() > DIGEST_PAGE_LISTS)
    return Status::error("cannot encode this directory digest: " + std::to_string(p.entries.size()) + " entries and " +
                         std::to_string(p.lists.size()) + " lists; a page holds at most " +
                         std::to_string(DIGEST_PAGE_ENTRIES) + " and " + std::to_string(DIGEST_PAGE_LISTS));
  for (const auto& e : p.entries)
    if (e.zid.size() != ZID_LENGTH)
      return Status::error("cannot encode this directory digest: \"" + e.zid + "\" is not a 16-character ZID");
  Bytes out = header(CONTROL_DIRECTORY_DIGEST);
  out.reserve(2 + DIRECTORY_BODY_MAX);
  append_be64(out, p.zeqond);
  append_be32(out, p.record_count);
  put(out, p.digest_hash);
  out.push_back(p.plat ? 1 : 0);
  if (p.plat) put(out, *p.plat);
  append_be16(out, p.page);
  append_be16(out, p.pages);
  out.push_back(uint8_t(p.entries.size()));
  for (const auto& e : p.entries) {
    put(out, e.zid);
    append_be64(out, e.sequence);
  }
  out.push_back(uint8_t(p.lists.size()));
  for (const auto& l : p.lists) {
    put(out, l.issuer);
    append_be64(out, l.serial);
  }
  return checked(std::move(out), decode_digest_page, "directory digest");
}

Result<DigestPage> decode_digest_page(ByteSpan in) {
  Reader r(in, "directory digest", CONTROL_DIRECTORY_DIGEST);
  DigestPage p;
  if (!r.header() || !r.need(8, "zeqond")) return r.error();
  p.zeqond = r.u64();
  if (!r.need(4, "record_count")) return r.error();
  p.record_count = r.u32();
  if (!r.need(32, "digest_hash")) return r.error();
  p.digest_hash = r.digest();
  size_t at = r.pos();
  if (!r.need(1, "plat_flag")) return r.error();
  const uint8_t flag = r.u8();
  if (flag > 1) {
    r.fail(at, "plat_flag", std::to_string(flag) + " is neither 0 (no PLAT) nor 1 (a PLAT follows)");
    return r.error();
  }
  if (flag == 1) {
    if (!r.need(32, "plat")) return r.error();
    p.plat = r.digest();
  }
  at = r.pos();
  if (!r.need(4, "page")) return r.error();
  p.page = r.u16();
  p.pages = r.u16();
  if (p.pages == 0 && p.page != 0) {
    r.fail(at, "page", "page " + std::to_string(p.page) + " of a summary (pages 0); a summary is page 0");
    return r.error();
  }
  if (p.pages != 0 && p.page >= p.pages) {
    r.fail(at, "page", "page " + std::to_string(p.page) + " of " + std::to_string(p.pages) + "; pages count from 0");
    return r.error();
  }
  const size_t n_at = r.pos();
  if (!r.need(1, "n")) return r.error();
  const size_t n = r.u8();
  if (n > DIGEST_PAGE_ENTRIES) {
    r.fail(n_at, "n", std::to_string(n) + " entries; a page holds at most " + std::to_string(DIGEST_PAGE_ENTRIES));
    return r.error();
  }
  p.entries.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string field = "entries[" + std::to_string(i) + "]";
    DigestEntry e;
    if (!r.zid(field + " zid", i ? &p.entries.back().zid : nullptr, e.zid)) return r.error();
    at = r.pos();
    if (!r.need(8, field + " sequence")) return r.error();
    e.sequence = r.u64();
    if (e.sequence == 0) {
      r.fail(at, field + " sequence", "0; sequences start at 1");
      return r.error();
    }
    p.entries.push_back(std::move(e));
  }
  at = r.pos();
  if (!r.need(1, "m")) return r.error();
  const size_t m = r.u8();
  if (m > DIGEST_PAGE_LISTS) {
    r.fail(at, "m", std::to_string(m) + " lists; a page holds at most " + std::to_string(DIGEST_PAGE_LISTS));
    return r.error();
  }
  p.lists.reserve(m);
  for (size_t i = 0; i < m; ++i) {
    const std::string field = "lists[" + std::to_string(i) + "]";
    DigestListEntry l;
    if (!r.issuer(field + " issuer", i ? &p.lists.back().issuer : nullptr, l.issuer)) return r.error();
    if (!r.need(8, field + " serial")) return r.error();
    l.serial = r.u64();
    p.lists.push_back(l);
  }
  const size_t listed = n + m;
  if (p.pages == 0 && listed != 0) {
    r.fail(n_at, "n", "a summary (pages 0) with entries; a summary lists none");
    return r.error();
  }
  if (p.pages != 0 && listed == 0) {
    r.fail(n_at, "n", "a page with no entries; a page lists at least one (a summary has pages 0)");
    return r.error();
  }
  if (listed > p.record_count) {
    r.fail(2 + 8, "record_count",
           std::to_string(p.record_count) + ", fewer than the " + std::to_string(listed) + " entries listed");
    return r.error();
  }
  if (!r.end()) return r.error();
  return p;
}

// --- Pull -------------------------------------------------------------------------

Result<Bytes> encode_pull(const PullRequest& pull) {
  if (pull.zids.size() > PULL_MAX_ZIDS || pull.issuers.size() > PULL_MAX_LISTS)
    return Status::error("cannot encode this directory pull: " + std::to_string(pull.zids.size()) + " ZIDs and " +
                         std::to_string(pull.issuers.size()) + " issuers; at most " + std::to_string(PULL_MAX_ZIDS) +
                         " and " + std::to_string(PULL_MAX_LISTS));
  for (const auto& z : pull.zids)
    if (z.size() != ZID_LENGTH)
      return Status::error("cannot encode this directory pull: \"" + z + "\" is not a 16-character ZID");
  Bytes out = header(CONTROL_DIRECTORY_PULL);
  out.push_back(uint8_t(pull.zids.size()));
  for (const auto& z : pull.zids) put(out, z);
  out.push_back(uint8_t(pull.issuers.size()));
  for (const auto& i : pull.issuers) put(out, i);
  return checked(std::move(out), decode_pull, "directory pull");
}

Result<PullRequest> decode_pull(ByteSpan in) {
  Reader r(in, "directory pull", CONTROL_DIRECTORY_PULL);
  PullRequest pull;
  if (!r.header()) return r.error();
  size_t at = r.pos();
  if (!r.need(1, "n")) return r.error();
  const size_t n = r.u8();
  if (n > PULL_MAX_ZIDS) {
    r.fail(at, "n", std::to_string(n) + " ZIDs; a pull asks for at most " + std::to_string(PULL_MAX_ZIDS));
    return r.error();
  }
  pull.zids.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string z;
    if (!r.zid("zids[" + std::to_string(i) + "]", i ? &pull.zids.back() : nullptr, z)) return r.error();
    pull.zids.push_back(std::move(z));
  }
  at = r.pos();
  if (!r.need(1, "m")) return r.error();
  const size_t m = r.u8();
  if (m > PULL_MAX_LISTS) {
    r.fail(at, "m", std::to_string(m) + " issuers; a pull asks for at most " + std::to_string(PULL_MAX_LISTS));
    return r.error();
  }
  if (n + m == 0) {
    r.fail(at, "m", "a pull that asks for nothing");
    return r.error();
  }
  pull.issuers.reserve(m);
  for (size_t i = 0; i < m; ++i) {
    Digest32 issuer;
    if (!r.issuer("issuers[" + std::to_string(i) + "]", i ? &pull.issuers.back() : nullptr, issuer)) return r.error();
    pull.issuers.push_back(issuer);
  }
  if (!r.end()) return r.error();
  return pull;
}

// --- Records ----------------------------------------------------------------------

Result<Bytes> encode_records(const std::vector<ByteSpan>& records) {
  size_t bytes = 0;
  for (const auto& rec : records) bytes += rec.size();
  if (records.empty() || records.size() > 255 || records_message_size(records.size(), bytes) > 2 + DIRECTORY_BODY_MAX)
    return Status::error("cannot encode this directory records message: " + std::to_string(records.size()) +
                         " records of " + std::to_string(bytes) + " bytes; 1 to 255 records within " +
                         std::to_string(DIRECTORY_BODY_MAX) + " body bytes");
  Bytes out = header(CONTROL_DIRECTORY_RECORDS);
  out.reserve(records_message_size(records.size(), bytes));
  out.push_back(RECORDS_WHOLE);
  out.push_back(uint8_t(records.size()));
  for (const auto& rec : records) {
    append_be16(out, uint16_t(rec.size()));
    put(out, rec);
  }
  return checked(std::move(out), decode_records, "directory records message");
}

Result<Bytes> encode_record_fragment(const RecordFragment& f) {
  if (f.bytes.size() > RECORD_FRAGMENT_BYTES)
    return Status::error("cannot encode this record fragment: " + std::to_string(f.bytes.size()) +
                         " bytes; at most " + std::to_string(RECORD_FRAGMENT_BYTES));
  Bytes out = header(CONTROL_DIRECTORY_RECORDS);
  out.reserve(2 + 9 + f.bytes.size());
  out.push_back(RECORDS_FRAGMENT);
  append_be32(out, f.record_id);
  out.push_back(f.index);
  out.push_back(f.count);
  append_be16(out, uint16_t(f.bytes.size()));
  put(out, f.bytes);
  return checked(std::move(out), decode_records, "record fragment");
}

Result<RecordsMessage> decode_records(ByteSpan in) {
  Reader r(in, "directory records", CONTROL_DIRECTORY_RECORDS);
  RecordsMessage msg;
  if (!r.header()) return r.error();
  size_t at = r.pos();
  if (!r.need(1, "form")) return r.error();
  const uint8_t form = r.u8();
  if (form == RECORDS_WHOLE) {
    at = r.pos();
    if (!r.need(1, "n")) return r.error();
    const size_t n = r.u8();
    if (n == 0) {
      r.fail(at, "n", "0 records; a records message carries at least one");
      return r.error();
    }
    msg.records.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const std::string field = "records[" + std::to_string(i) + "]";
      at = r.pos();
      if (!r.need(2, field + " length")) return r.error();
      const size_t len = r.u16();
      if (len == 0) {
        r.fail(at, field + " length", "0; a record has at least one byte");
        return r.error();
      }
      if (r.pos() + len - BODY_OFFSET > DIRECTORY_BODY_MAX) {
        r.fail(at, field + " length",
               std::to_string(len) + " bytes take the body past " + std::to_string(DIRECTORY_BODY_MAX) +
                   " (a longer record travels in fragments)");
        return r.error();
      }
      if (!r.need(len, field)) return r.error();
      const ByteSpan rec = r.take(len);
      msg.records.emplace_back(rec.begin(), rec.end());
    }
  } else if (form == RECORDS_FRAGMENT) {
    RecordFragment f;
    if (!r.need(4, "record_id")) return r.error();
    f.record_id = r.u32();
    at = r.pos();
    if (!r.need(2, "fragment")) return r.error();
    f.index = r.u8();
    f.count = r.u8();
    if (f.count < 2 || f.index >= f.count) {
      r.fail(at, "fragment", "fragment " + std::to_string(f.index) + " of " + std::to_string(f.count) +
                                 "; a fragmented record has 2 to " + std::to_string(RECORD_FRAGMENTS_MAX) +
                                 " fragments, numbered from 0");
      return r.error();
    }
    at = r.pos();
    if (!r.need(2, "length")) return r.error();
    const size_t len = r.u16();
    const bool last = f.index + 1 == f.count;
    if (!last && len != RECORD_FRAGMENT_BYTES) {
      r.fail(at, "length", std::to_string(len) + "; every fragment but the last carries " +
                               std::to_string(RECORD_FRAGMENT_BYTES) + " bytes");
      return r.error();
    }
    if (last && (len == 0 || len > RECORD_FRAGMENT_BYTES)) {
      r.fail(at, "length", std::to_string(len) + "; the last fragment carries 1 to " +
                               std::to_string(RECORD_FRAGMENT_BYTES) + " bytes");
      return r.error();
    }
    // Fragments only for what does not fit whole: a 2-fragment record is
    // longer than RECORD_WHOLE_MAX.
    if (last && f.count == 2 && RECORD_FRAGMENT_BYTES + len <= RECORD_WHOLE_MAX) {
      r.fail(at, "length", "a record of " + std::to_string(RECORD_FRAGMENT_BYTES + len) + " bytes in fragments; up to " +
                               std::to_string(RECORD_WHOLE_MAX) + " it travels whole");
      return r.error();
    }
    if (!r.need(len, "bytes")) return r.error();
    const ByteSpan b = r.take(len);
    f.bytes.assign(b.begin(), b.end());
    msg.fragment = std::move(f);
  } else {
    r.fail(at, "form", std::to_string(form) + " is neither 0 (whole records) nor 1 (a fragment)");
    return r.error();
  }
  if (!r.end()) return r.error();
  return msg;
}

size_t record_fragment_count(size_t bytes) {
  if (bytes <= RECORD_WHOLE_MAX) return 1;
  return (bytes + RECORD_FRAGMENT_BYTES - 1) / RECORD_FRAGMENT_BYTES;
}

Result<RecordFragment> record_fragment(uint32_t record_id, ByteSpan record, size_t index) {
  const size_t count = record_fragment_count(record.size());
  if (count < 2 || record.size() > FRAGMENTED_RECORD_MAX || index >= count)
    return Status::error("record fragment " + std::to_string(index) + " of a " + std::to_string(record.size()) +
                         "-byte record: records of " + std::to_string(RECORD_WHOLE_MAX + 1) + " to " +
                         std::to_string(FRAGMENTED_RECORD_MAX) + " bytes are fragmented");
  RecordFragment f;
  f.record_id = record_id;
  f.index = uint8_t(index);
  f.count = uint8_t(count);
  const size_t from = index * RECORD_FRAGMENT_BYTES;
  const size_t len = std::min(RECORD_FRAGMENT_BYTES, record.size() - from);
  f.bytes.assign(record.begin() + long(from), record.begin() + long(from + len));
  return f;
}

// --- Reassembly -------------------------------------------------------------------

void RecordReassembler::discard() {
  if (active_) ++discarded_;
  active_ = false;
  partial_.clear();
  partial_.shrink_to_fit();  // a big list's buffer is not kept for the next one
}

std::optional<Bytes> RecordReassembler::add(const RecordFragment& f, uint64_t now_z) {
  if (f.index == 0) {
    discard();
    active_ = true;
    record_id_ = f.record_id;
    count_ = f.count;
    next_ = 0;
  } else if (!active_ || f.record_id != record_id_ || f.count != count_ || f.index != next_) {
    discard();
    ++discarded_;  // the fragment itself
    return std::nullopt;
  }
  // The decoder holds every fragment to its length, so the record stays
  // within count_ * RECORD_FRAGMENT_BYTES <= FRAGMENTED_RECORD_MAX.
  partial_.insert(partial_.end(), f.bytes.begin(), f.bytes.end());
  last_z_ = now_z;
  if (++next_ < count_) return std::nullopt;
  Bytes whole = std::move(partial_);
  active_ = false;
  partial_ = Bytes();
  return whole;
}

void RecordReassembler::expire(uint64_t now_z) {
  if (active_ && now_z > last_z_ && now_z - last_z_ >= RECORD_REASSEMBLY_TIMEOUT_Z) discard();
}

}  // namespace zeq
