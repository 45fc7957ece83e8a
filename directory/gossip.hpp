// Directory gossip (anti-entropy, docs/protocol.md "Directory sync (gossip)
// and PLAT ticks"): how two peers bring their record stores together with
// the messages of protocol/directory_messages.hpp. Each side ticks a digest
// of what it holds, page by page; the other pulls what it lacks or holds
// older; the first sends those records; the receiver offers each to its
// RecordStore, which checks everything. A pure state machine per peer:
// the caller hands in Zeqonds and the peer's plaintexts and sends what comes
// back; no sockets, clocks or logging here. Everything is bounded per call
// and per Zeqond, so a 10 000-record directory syncs without bursts and a
// peer cannot make this node use more memory or CPU than the bounds below.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/result.hpp"
#include "crypto/hash.hpp"
#include "directory/plat_chain.hpp"
#include "directory/record_store.hpp"
#include "protocol/directory_messages.hpp"

namespace zeq {

// A digest tick goes to each peer every this many Zeqonds.
inline constexpr uint64_t GOSSIP_TICK_EVERY_Z = 2;
// Pages a tick sends while the two digests differ (4 × 40 entries: a
// 1000-record digest in 7 ticks, a 10 000-record one in 63).
inline constexpr size_t GOSSIP_PAGES_PER_TICK = 4;
// A peer's digest hash is taken as current for this long: while it equals
// ours, ticks are summaries.
inline constexpr uint64_t GOSSIP_PEER_HASH_FRESH_Z = 2 * GOSSIP_TICK_EVERY_Z + 1;
// Records messages sent to one peer: at most this many plaintext bytes per
// call (a round), and per Zeqond (a token bucket refilled to this at each
// new Zeqond: about 41 kB/s).
inline constexpr size_t GOSSIP_RECORD_BYTES_PER_ROUND = 8 * 1024;
inline constexpr size_t GOSSIP_RECORD_BYTES_PER_Z = 32 * 1024;
// Records pulled by a peer and not yet sent; more are dropped (it pulls again).
inline constexpr size_t GOSSIP_SEND_QUEUE_MAX = 256;
// Records this node pulled and has not received yet; asked again after
// GOSSIP_PULL_RETRY_Z.
inline constexpr size_t GOSSIP_OUTSTANDING_MAX = 256;
inline constexpr uint64_t GOSSIP_PULL_RETRY_Z = 8;
// Records a peer's messages may have checked by the store per Zeqond (each
// costs up to two Ed25519 verifications); more are dropped uncounted by the
// store, counted here as over_budget.
inline constexpr size_t GOSSIP_OFFERS_PER_Z = 256;
// (ZID, sequence) pairs the store refused from a peer, not pulled from it
// again for GOSSIP_REFUSED_RETRY_Z.
inline constexpr size_t GOSSIP_REFUSED_MEMORY = 1024;
inline constexpr uint64_t GOSSIP_REFUSED_RETRY_Z = 64;

// The store's digest hash, computed at most once per Zeqond (it is a hash
// over the whole directory) unless something changed the store: gossip
// invalidates it when it adds a record; whoever else offers records or
// calls expire() calls invalidate(). One per node, shared by its peers.
class DigestHashCache {
 public:
  const Digest32& get(const RecordStore& store, uint64_t now_z);
  void invalidate() { valid_ = false; }

 private:
  bool valid_ = false;
  uint64_t z_ = 0;
  Digest32 hash_{};
};

// What gossip with one node needs of the node; all of it outlives the peers.
struct GossipContext {
  RecordStore& store;
  DigestHashCache& digest;
  PlatReceiver& plats;              // heads of every sender
  const SyncSecret* sync = nullptr;  // null: ticks carry no PLAT
};

// Counters of one peer's gossip (for `zeqvpnctl directory` and metrics).
struct GossipStats {
  uint64_t ticks = 0, digest_pages_sent = 0, summaries_sent = 0;
  uint64_t digest_pages_received = 0, in_sync_pages = 0;
  uint64_t pulls_sent = 0, records_pulled = 0, skipped_full = 0;
  uint64_t pulls_received = 0, records_requested = 0, requests_dropped = 0;
  uint64_t records_messages_sent = 0, records_sent = 0, fragments_sent = 0, record_bytes_sent = 0;
  uint64_t not_held = 0, too_large = 0;  // requested but gone, or too big for gossip
  uint64_t records_received = 0, unsolicited = 0, over_budget = 0;
  uint64_t fragments_received = 0;
  uint64_t malformed_messages = 0;
  std::array<uint64_t, OFFER_VERDICT_COUNT> verdicts{};  // the store's verdict on each record received
  std::array<uint64_t, PLAT_VERDICT_COUNT> plat{};
};

// What came of one message from the peer.
struct GossipOutput {
  std::vector<Bytes> replies;            // control messages for the peer, in order
  std::optional<PlatVerdict> plat;       // a digest page's PLAT check (log the flagged ones)
  std::vector<std::string> accepted;     // ZIDs whose record the store took (new or newer)
  std::vector<std::string> dropped;      // ZIDs an accepted revocation list removed
  std::vector<OfferOutcome> refused;     // records refused, for the log
};

// Anti-entropy with one peer over the node's RecordStore.
class GossipPeer {
 public:
  // `peer_zid`: the tunnel peer (the tunnel authenticates it); records it
  // sends are stored with it as their source.
  GossipPeer(const GossipContext& ctx, std::string peer_zid);

  // Call as often as the node's timer runs (several times a Zeqond): a
  // digest tick when one is due, then queued records within the budgets.
  std::vector<Bytes> tick(uint64_t now_z);
  // A control message from the peer of type 0x03, 0x04 or 0x05 (padding
  // and all). An error names what was malformed (nothing else changed but
  // the malformed_messages counter).
  Result<GossipOutput> on_message(ByteSpan plaintext, uint64_t now_z);
  // Queues a record this node holds for the peer unasked (a node's own new
  // record, or one it just accepted), so a change spreads within a tick
  // instead of waiting for a digest round. False when the queue is full.
  bool push(std::string_view zid);
  // The same for a CA's revocation list this node holds (a revocation made
  // here reaches the peer within a tick).
  bool push_revocation_list(const Digest32& issuer);

  const GossipStats& stats() const { return stats_; }
  const std::string& peer() const { return peer_; }
  // The peer's last digest: its hash and record count (nullopt before one).
  const std::optional<Digest32>& peer_digest_hash() const { return peer_hash_; }
  uint32_t peer_record_count() const { return peer_count_; }
  size_t outstanding() const { return outstanding_.size(); }
  size_t queued() const { return queue_.size(); }
  size_t reassembly_bytes() const { return reassembler_.held_bytes(); }

 private:
  // Where this round of digest pages goes on: after the last key sent.
  struct Cursor {
    bool started = false;     // a page of this round went out
    bool in_lists = false;    // the node records are done
    std::string after_zid;
    Digest32 after_issuer{};
    bool issuer_started = false;
    uint16_t page = 0;
    uint32_t nodes_sent = 0, lists_sent = 0;
  };
  // A fragmented record on its way out.
  struct Outgoing {
    uint32_t record_id = 0;
    Bytes record;
    size_t next = 0, count = 0;
  };
  // A refused (key, sequence or serial) and when.
  struct Refused {
    uint64_t version = 0;
    uint64_t z = 0;
  };

  // A tick: a summary, or the next pages of the round.
  void digest_tick(uint64_t now_z, std::vector<Bytes>& out);
  // The next page of the round; false when the round ended before it.
  bool next_page(DigestPage& page);
  // Sends from the queue what the round's and the Zeqond's budgets allow.
  void drain(uint64_t now_z, std::vector<Bytes>& out);
  // Refills the Zeqond's budget at a new Zeqond.
  void refill(uint64_t now_z);
  // Forgets pulls not answered in GOSSIP_PULL_RETRY_Z and stale fragments.
  void expire(uint64_t now_z);
  // Queues a key for sending (true when queued or already there).
  bool enqueue(std::string key);
  // The bytes of the record held under a queue key (a ZID, or an issuer's 32 bytes).
  const Bytes* held_bytes(const std::string& key) const;
  // Whether to pull `key` at `version` from the peer.
  bool wants(const std::string& key, uint64_t version, uint64_t held_version, bool held, uint64_t now_z);

  // A page: check its PLAT, pull what it lists newer than held.
  void on_digest(const DigestPage& page, uint64_t now_z, GossipOutput& out);
  // A pull: queue what it asks for and send what the budgets allow.
  void on_pull(const PullRequest& pull, uint64_t now_z, GossipOutput& out);
  // Whole records or a fragment: offer each complete record.
  void on_records(RecordsMessage msg, uint64_t now_z, GossipOutput& out);
  // One record to the store, within the Zeqond's offer budget.
  void offer(const Bytes& record, uint64_t now_z, GossipOutput& out);
  // Not to pull `key` at `version` or lower again for GOSSIP_REFUSED_RETRY_Z.
  void remember_refused(const std::string& key, uint64_t version, uint64_t now_z);

  GossipContext ctx_;
  std::string peer_;
  std::optional<PlatSender> plat_;

  // Sending side.
  uint64_t next_tick_z_ = 0;
  Cursor cursor_;
  std::deque<std::string> queue_;
  std::optional<Outgoing> outgoing_;
  uint32_t next_record_id_ = 1;
  uint64_t budget_z_ = 0;
  size_t budget_ = GOSSIP_RECORD_BYTES_PER_Z;
  bool budget_started_ = false;

  // Receiving side.
  std::optional<Digest32> peer_hash_;
  uint64_t peer_hash_z_ = 0;
  uint32_t peer_count_ = 0;
  std::map<std::string, uint64_t> outstanding_;  // key -> Zeqond pulled
  std::map<std::string, Refused> refused_;
  RecordReassembler reassembler_;
  uint64_t offers_z_ = 0;
  size_t offers_ = 0;

  GossipStats stats_;
};

}  // namespace zeq
