// Fuzz target: directory sync messages (protocol/directory_messages.hpp) as
// a peer sends them, decoded as every type and fed to a gossip state machine
// (directory/gossip.hpp) over a record store that starts empty and trusts
// the vector CA, with the sync secret of tests/data/plat_vectors.py.
// Input: byte 0 is the mode. Bit 0 clear: the rest is one message. Set: the
// rest is messages, each be16(length) then its bytes, the Zeqond advancing
// by bits 1..2 of the mode after each. Properties, trapped when broken:
//  - what decodes is canonical: encoding it again gives the input up to
//    its zero padding, and no input decodes as two types;
//  - every reply fits one message and decodes; a call's replies carry at
//    most GOSSIP_RECORD_BYTES_PER_ROUND of records, at most one pull, at
//    most GOSSIP_PAGES_PER_TICK digest pages;
//  - records sent are records the store holds; the store holds no more
//    than it accepted;
//  - the per-peer state stays within its bounds (reassembly, outstanding
//    pulls, send queue).
// The seed corpus (corpus/directory_messages/, from plat_vectors.py
// --corpus) carries valid PLATs and records the store takes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "directory/gossip.hpp"
#include "directory/plat_chain.hpp"
#include "directory/record_store.hpp"
#include "identity/certificate.hpp"
#include "protocol/directory_messages.hpp"
#include "vector_ca.hpp"

namespace {

// The Zeqond of plat_vectors.py: the vector records and certificates are
// valid then.
constexpr uint64_t BASE_Z = 2310168000;

const zeq::CaPublicKey& trusted_ca() {
  static const zeq::CaPublicKey ca{"fuzz", zeq::fuzz::vector_ca().public_key};
  return ca;
}

const zeq::SyncSecret& sync_secret() {
  static const zeq::SyncSecret sync = [] {
    zeq::Bytes secret;
    for (uint8_t b = 0x41; b <= 0x60; ++b) secret.push_back(b);
    const std::string_view uid = "example-sync-group";
    return zeq::SyncSecret::make(secret, zeq::as_bytes(uid)).value();
  }();
  return sync;
}

// The bytes the decoder of the message's type encodes again from what it
// read, nullopt when it refuses them. Traps when two types take one input.
std::optional<zeq::Bytes> reencoded(zeq::ByteSpan m) {
  auto page = zeq::decode_digest_page(m);
  auto pull = zeq::decode_pull(m);
  auto records = zeq::decode_records(m);
  if (int(page.is_ok()) + int(pull.is_ok()) + int(records.is_ok()) > 1) __builtin_trap();
  if (page) return zeq::encode_digest_page(*page).value();
  if (pull) return zeq::encode_pull(*pull).value();
  if (!records) return std::nullopt;
  if (records->fragment) {
    if (!records->records.empty()) __builtin_trap();
    return zeq::encode_record_fragment(*records->fragment).value();
  }
  std::vector<zeq::ByteSpan> spans(records->records.begin(), records->records.end());
  return zeq::encode_records(spans).value();
}

void check_canonical(zeq::ByteSpan m) {
  auto back = reencoded(m);
  if (!back) return;
  if (back->size() > m.size() || !std::equal(back->begin(), back->end(), m.begin())) __builtin_trap();
  for (size_t i = back->size(); i < m.size(); ++i)
    if (m[i] != 0) __builtin_trap();
}

// What one call of the state machine sent.
void check_sent(const std::vector<zeq::Bytes>& sent, const zeq::RecordStore& store) {
  size_t record_bytes = 0, pulls = 0, pages = 0;
  for (const auto& m : sent) {
    if (m.size() > 2 + zeq::DIRECTORY_BODY_MAX || !reencoded(m)) __builtin_trap();
    if (m[1] == zeq::CONTROL_DIRECTORY_DIGEST) ++pages;
    if (m[1] == zeq::CONTROL_DIRECTORY_PULL) ++pulls;
    if (m[1] != zeq::CONTROL_DIRECTORY_RECORDS) continue;
    record_bytes += m.size();
    auto records = zeq::decode_records(m);
    for (const auto& r : records->records) {
      bool held = false;
      for (const auto& [zid, h] : store.records()) held = held || h.record.encoded == r;
      for (const auto& [issuer, h] : store.revocation_lists()) held = held || h.record.encoded == r;
      if (!held) __builtin_trap();
    }
  }
  if (record_bytes > zeq::GOSSIP_RECORD_BYTES_PER_ROUND || pulls > 1 || pages > zeq::GOSSIP_PAGES_PER_TICK)
    __builtin_trap();
}

void check_bounds(const zeq::GossipPeer& peer, const zeq::RecordStore& store) {
  if (peer.reassembly_bytes() > zeq::FRAGMENTED_RECORD_MAX || peer.outstanding() > zeq::GOSSIP_OUTSTANDING_MAX ||
      peer.queued() > zeq::GOSSIP_SEND_QUEUE_MAX)
    __builtin_trap();
  if (store.size() + store.revocation_lists().size() > store.count(zeq::OfferVerdict::kAccepted)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const zeq::ByteSpan rest(data + 1, size - 1);

  std::vector<zeq::ByteSpan> messages;
  if (mode & 1) {
    for (size_t at = 0; at + 2 <= rest.size();) {
      const size_t len = zeq::load_be16(rest.data() + at);
      at += 2;
      if (len > rest.size() - at) break;
      messages.push_back(rest.subspan(at, len));
      at += len;
    }
  } else {
    messages.push_back(rest);
  }

  zeq::TrustStore trust;
  trust.add_ca(trusted_ca());
  zeq::RecordStore store(trust);
  zeq::DigestHashCache digest;
  zeq::PlatReceiver plats(&sync_secret());
  zeq::GossipPeer peer(zeq::GossipContext{store, digest, plats, &sync_secret()}, "zeq-0123456789ab");
  const uint64_t step = (mode >> 1) & 3;
  uint64_t z = BASE_Z;
  for (const auto& m : messages) {
    check_canonical(m);
    auto out = peer.on_message(m, z);
    if (out) {
      check_sent(out->replies, store);
      if (out->accepted.size() > store.size()) __builtin_trap();
    } else if (reencoded(m) && m.size() >= 2 && m[1] >= zeq::CONTROL_DIRECTORY_DIGEST &&
               m[1] <= zeq::CONTROL_DIRECTORY_RECORDS) {
      __builtin_trap();  // a message that decodes is taken
    }
    check_sent(peer.tick(z), store);
    check_bounds(peer, store);
    z += step;
  }
  return 0;
}
