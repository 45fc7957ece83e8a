// Directory sync messages (docs/protocol.md, "Directory sync (gossip) and
// PLAT ticks"): the in-tunnel control messages (control_message.hpp) that
// carry the mesh directory between two peers by anti-entropy:
//   0x03 Digest   one page of what the sender holds, (ZID, sequence) sorted
//                 by ZID, with its digest hash and the tick's PLAT;
//   0x04 Pull     the ZIDs and revocation-list issuers the receiver wants;
//   0x05 Records  whole signed records, or one fragment of a record too
//                 big for one message.
// Every body is at most DIRECTORY_BODY_MAX bytes, so each message is one
// data message at the default MTU. Pure code: one canonical encoding, and a
// decoder that names the field and the byte offset (from the 0x01 at byte
// 0) of what it refuses. Bytes after the body must be zero (the data
// message's padding). Nothing here says whether a record is any good:
// directory/record_store.hpp decides that.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "core/result.hpp"
#include "crypto/hash.hpp"

namespace zeq {

inline constexpr uint8_t CONTROL_DIRECTORY_DIGEST = 0x03;
inline constexpr uint8_t CONTROL_DIRECTORY_PULL = 0x04;
inline constexpr uint8_t CONTROL_DIRECTORY_RECORDS = 0x05;

// Body bytes (after 0x01 and the type byte) of any directory message.
inline constexpr size_t DIRECTORY_BODY_MAX = 1200;
// A Digest page lists at most this many node records and revocation lists.
inline constexpr size_t DIGEST_PAGE_ENTRIES = 40;
inline constexpr size_t DIGEST_PAGE_LISTS = 3;
// A Pull asks for at most this many.
inline constexpr size_t PULL_MAX_ZIDS = 64;
inline constexpr size_t PULL_MAX_LISTS = 3;
// The largest record sent whole: form(1) n(1) len(2) record.
inline constexpr size_t RECORD_WHOLE_MAX = DIRECTORY_BODY_MAX - 4;
// Every fragment but the last carries exactly this many record bytes:
// form(1) record_id(4) fragment(1) fragments(1) len(2) bytes.
inline constexpr size_t RECORD_FRAGMENT_BYTES = DIRECTORY_BODY_MAX - 9;
inline constexpr size_t RECORD_FRAGMENTS_MAX = 255;
// The largest record that travels by gossip (a revocation list of about
// 9 200 entries); what a reassembler may hold for one peer.
inline constexpr size_t FRAGMENTED_RECORD_MAX = RECORD_FRAGMENTS_MAX * RECORD_FRAGMENT_BYTES;
// A partly reassembled record is dropped when no fragment came for this long.
inline constexpr uint64_t RECORD_REASSEMBLY_TIMEOUT_Z = 8;

static_assert(2 + 8 + 4 + 32 + 1 + 32 + 2 + 2 + 1 + DIGEST_PAGE_ENTRIES * 24 + 1 + DIGEST_PAGE_LISTS * 40 <=
              2 + DIRECTORY_BODY_MAX);
static_assert(2 + PULL_MAX_ZIDS * 16 + PULL_MAX_LISTS * 32 <= DIRECTORY_BODY_MAX);
static_assert(FRAGMENTED_RECORD_MAX == 303'705);

// One node record the sender holds.
struct DigestEntry {
  std::string zid;        // 16 characters, a valid ZID
  uint64_t sequence = 0;  // >= 1
  bool operator==(const DigestEntry&) const = default;
};

// One revocation list the sender holds.
struct DigestListEntry {
  Digest32 issuer{};  // the CA's fingerprint
  uint64_t serial = 0;
  bool operator==(const DigestListEntry&) const = default;
};

// One page of the sender's digest (a tick). pages == 0: a summary (the
// sender believes both sides hold the same records; no entries); otherwise
// page < pages and at least one entry. Entries are strictly ascending (node
// entries by ZID, then lists by issuer); a page's first entry is its
// first_zid: the page covers the sender's records from there up to the next
// page's first_zid as the sender held them when it made the page.
struct DigestPage {
  uint64_t zeqond = 0;        // the sender's Zeqond at the tick
  uint32_t record_count = 0;  // node records plus revocation lists the sender holds
  Digest32 digest_hash{};     // RecordStore::digest_hash() of the sender at the tick
  std::optional<Digest32> plat;  // the tick's PLAT (directory/plat_chain.hpp); none without a sync secret
  uint16_t page = 0;
  uint16_t pages = 0;  // the sender's estimate of this round's pages; progress only
  std::vector<DigestEntry> entries;      // at most DIGEST_PAGE_ENTRIES
  std::vector<DigestListEntry> lists;    // at most DIGEST_PAGE_LISTS
  bool summary() const { return pages == 0; }
  bool operator==(const DigestPage&) const = default;
};

// What the receiver of a digest wants sent.
struct PullRequest {
  std::vector<std::string> zids;   // strictly ascending, at most PULL_MAX_ZIDS
  std::vector<Digest32> issuers;   // strictly ascending, at most PULL_MAX_LISTS
  bool operator==(const PullRequest&) const = default;
};

// One piece of a record longer than RECORD_WHOLE_MAX.
struct RecordFragment {
  uint32_t record_id = 0;  // the sender's number for the record; fragments of one record share it
  uint8_t index = 0;       // 0 .. count-1
  uint8_t count = 0;       // 2 .. RECORD_FRAGMENTS_MAX
  Bytes bytes;             // RECORD_FRAGMENT_BYTES, the last one 1..RECORD_FRAGMENT_BYTES
  bool operator==(const RecordFragment&) const = default;
};

// A Records message: either whole records or one fragment.
struct RecordsMessage {
  std::vector<Bytes> records;             // whole records, at least one, when not a fragment
  std::optional<RecordFragment> fragment;
  bool operator==(const RecordsMessage&) const = default;
};

// Encoders return the whole plaintext (0x01, type, body), unpadded; they
// refuse, naming the field, what the decoder would refuse.
Result<Bytes> encode_digest_page(const DigestPage& page);
Result<Bytes> encode_pull(const PullRequest& pull);
Result<Bytes> encode_records(const std::vector<ByteSpan>& records);
Result<Bytes> encode_record_fragment(const RecordFragment& fragment);

// Decoders take the plaintext as the data message carried it (with its
// zero padding).
Result<DigestPage> decode_digest_page(ByteSpan plaintext);
Result<PullRequest> decode_pull(ByteSpan plaintext);
Result<RecordsMessage> decode_records(ByteSpan plaintext);

// Plaintext bytes of a Records message holding whole records of these
// lengths (4 + sum of 2 + len).
inline size_t records_message_size(size_t count, size_t record_bytes) { return 4 + 2 * count + record_bytes; }
// How many fragments a record of `bytes` bytes travels in (1: whole).
size_t record_fragment_count(size_t bytes);
// Fragment `index` of `record` under `record_id`; the record must be longer
// than RECORD_WHOLE_MAX and at most FRAGMENTED_RECORD_MAX.
Result<RecordFragment> record_fragment(uint32_t record_id, ByteSpan record, size_t index);

// Puts one peer's fragments back together. It holds at most one partial
// record (at most FRAGMENTED_RECORD_MAX bytes): a fragment 0 starts a new
// one, the next fragment in order of the same record extends it, anything
// else discards it. A sender finishes one fragmented record before it
// starts the next.
class RecordReassembler {
 public:
  // The whole record when `f` completed it; nullopt otherwise.
  std::optional<Bytes> add(const RecordFragment& f, uint64_t now_z);
  // Drops a partial record that got no fragment for RECORD_REASSEMBLY_TIMEOUT_Z.
  void expire(uint64_t now_z);
  size_t held_bytes() const { return partial_.size(); }
  // Partial records given up (out of order, restarted, timed out) and
  // fragments dropped because they fit no partial record.
  uint64_t discarded() const { return discarded_; }

 private:
  void discard();

  bool active_ = false;
  uint32_t record_id_ = 0;
  uint8_t count_ = 0;
  uint8_t next_ = 0;
  uint64_t last_z_ = 0;
  Bytes partial_;
  uint64_t discarded_ = 0;
};

}  // namespace zeq
