// Directory sync messages (protocol/directory_messages.hpp): the encodings of
// tests/data/plat_vectors.py byte for byte, the size bounds, every rule the
// decoder holds a message to (with the field and offset it names),
// truncations and bit flips, and the reassembly of fragmented records.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "crypto/ed25519.hpp"
#include "directory/record_store.hpp"
#include "identity/certificate.hpp"
#include "protocol/directory_messages.hpp"
#include "test_data.hpp"

namespace zeq {

namespace {

using test::hex;
using test::hex_array;

const nlohmann::json& vectors() {
  static const nlohmann::json v = test::load_json("plat-vectors.json");
  return v;
}

DigestPage page_of(const nlohmann::json& d) {
  DigestPage p;
  p.zeqond = d["zeqond"];
  p.record_count = d["record_count"];
  p.digest_hash = hex_array<32>(d["digest_hash"]);
  if (!d["plat"].is_null()) p.plat = hex_array<32>(d["plat"]);
  p.page = d["page"];
  p.pages = d["pages"];
  for (const auto& e : d["entries"]) p.entries.push_back({e[0], e[1]});
  for (const auto& l : d["lists"]) p.lists.push_back({hex_array<32>(l[0]), l[1]});
  return p;
}

std::string zid_n(size_t i) {
  static const char* digits = "0123456789abcdef";
  std::string z = "zeq-000000000000";
  for (size_t k = 0; k < 12; ++k) z[15 - k] = digits[(i >> (4 * k)) & 15];
  return z;
}

Digest32 issuer_n(uint8_t i) {
  Digest32 d{};
  d.fill(uint8_t(0x10 * i));
  return d;
}

// The biggest page: a PLAT, DIGEST_PAGE_ENTRIES entries and DIGEST_PAGE_LISTS lists.
DigestPage full_page() {
  DigestPage p;
  p.zeqond = 0x0102030405060708;
  p.record_count = 10'000;
  p.digest_hash.fill(0xab);
  p.plat = Digest32{};
  p.plat->fill(0xcd);
  p.page = 7;
  p.pages = 250;
  for (size_t i = 0; i < DIGEST_PAGE_ENTRIES; ++i) p.entries.push_back({zid_n(0x1000 + i), i + 1});
  for (uint8_t i = 1; i <= DIGEST_PAGE_LISTS; ++i) p.lists.push_back({issuer_n(i), 100u + i});
  return p;
}

PullRequest full_pull() {
  PullRequest p;
  for (size_t i = 0; i < PULL_MAX_ZIDS; ++i) p.zids.push_back(zid_n(0x2000 + i));
  for (uint8_t i = 1; i <= PULL_MAX_LISTS; ++i) p.issuers.push_back(issuer_n(i));
  return p;
}

// Decodes with the decoder of the message's own type.
bool decodes(ByteSpan m) {
  if (m.size() < 2) return false;
  if (m[1] == CONTROL_DIRECTORY_DIGEST) return decode_digest_page(m).is_ok();
  if (m[1] == CONTROL_DIRECTORY_PULL) return decode_pull(m).is_ok();
  return decode_records(m).is_ok();
}

// The bytes the decoder of `type` would encode again from what it read
// (nullopt when it refuses them).
std::optional<Bytes> reencoded(uint8_t type, ByteSpan m) {
  if (type == CONTROL_DIRECTORY_DIGEST) {
    auto p = decode_digest_page(m);
    if (!p) return std::nullopt;
    return encode_digest_page(*p).value();
  }
  if (type == CONTROL_DIRECTORY_PULL) {
    auto p = decode_pull(m);
    if (!p) return std::nullopt;
    return encode_pull(*p).value();
  }
  auto r = decode_records(m);
  if (!r) return std::nullopt;
  if (r->fragment) return encode_record_fragment(*r->fragment).value();
  std::vector<ByteSpan> spans(r->records.begin(), r->records.end());
  return encode_records(spans).value();
}

// Every message of the tests that truncations and flips are tried on.
std::vector<Bytes> sample_messages() {
  const auto& v = vectors();
  std::vector<Bytes> out;
  for (const auto& d : v["digest_pages"]) out.push_back(hex(d["encoded"]));
  for (const auto& p : v["pulls"]) out.push_back(hex(p["encoded"]));
  out.push_back(hex(v["records"]["whole"]["encoded"]));
  for (const auto& f : v["records"]["fragmented"]["fragments"]) out.push_back(hex(f));
  out.push_back(encode_digest_page(full_page()).value());
  out.push_back(encode_pull(full_pull()).value());
  return out;
}

std::string error_of(ByteSpan m) {
  if (m[1] == CONTROL_DIRECTORY_DIGEST) return decode_digest_page(m).message();
  if (m[1] == CONTROL_DIRECTORY_PULL) return decode_pull(m).message();
  return decode_records(m).message();
}

}  // namespace

// --- Vectors ----------------------------------------------------------------------

TEST(DirectoryMessages, DigestPagesOfTheVectors) {
  for (const auto& d : vectors()["digest_pages"]) {
    SCOPED_TRACE(std::string(d["description"]));
    const DigestPage page = page_of(d);
    auto encoded = encode_digest_page(page);
    ASSERT_TRUE(encoded) << encoded.message();
    EXPECT_EQ(to_hex(*encoded), d["encoded"]);
    auto decoded = decode_digest_page(hex(d["encoded"]));
    ASSERT_TRUE(decoded) << decoded.message();
    EXPECT_EQ(*decoded, page);
    EXPECT_EQ(decoded->summary(), page.pages == 0);
  }
}

TEST(DirectoryMessages, PullsOfTheVectors) {
  for (const auto& p : vectors()["pulls"]) {
    PullRequest pull;
    for (const auto& z : p["zids"]) pull.zids.push_back(z);
    for (const auto& i : p["issuers"]) pull.issuers.push_back(hex_array<32>(i));
    EXPECT_EQ(to_hex(encode_pull(pull).value()), p["encoded"]);
    EXPECT_EQ(decode_pull(hex(p["encoded"])).value(), pull);
  }
}

TEST(DirectoryMessages, WholeRecordsOfTheVectors) {
  const auto records = test::load_json("record-vectors.json")["node_records"];
  const Bytes r0 = hex(records[0]["encoded"]), r1 = hex(records[1]["encoded"]);
  const auto& w = vectors()["records"]["whole"];
  EXPECT_EQ(to_hex(encode_records({r0, r1}).value()), w["encoded"]);
  auto decoded = decode_records(hex(w["encoded"]));
  ASSERT_TRUE(decoded) << decoded.message();
  EXPECT_FALSE(decoded->fragment);
  EXPECT_EQ(decoded->records, (std::vector<Bytes>{r0, r1}));
  EXPECT_EQ(records_message_size(2, r0.size() + r1.size()), hex(w["encoded"]).size());
}

// The fragments of a revocation list too big for one message, as Python
// cut them; put together they are a list the vector CA signed, which a
// record store takes.
TEST(DirectoryMessages, FragmentsOfTheVectors) {
  const auto& f = vectors()["records"]["fragmented"];
  const Bytes record = hex(f["record"]);
  ASSERT_GT(record.size(), RECORD_WHOLE_MAX);
  ASSERT_EQ(record_fragment_count(record.size()), f["fragments"].size());
  RecordReassembler reassembler;
  std::optional<Bytes> whole;
  for (size_t i = 0; i < f["fragments"].size(); ++i) {
    const Bytes want = hex(f["fragments"][i]);
    auto mine = record_fragment(f["record_id"], record, i);
    ASSERT_TRUE(mine) << mine.message();
    EXPECT_EQ(encode_record_fragment(*mine).value(), want);
    auto decoded = decode_records(want);
    ASSERT_TRUE(decoded) << decoded.message();
    ASSERT_TRUE(decoded->fragment);
    EXPECT_TRUE(decoded->records.empty());
    EXPECT_EQ(*decoded->fragment, *mine);
    whole = reassembler.add(*decoded->fragment, 100);
    EXPECT_EQ(whole.has_value(), i + 1 == f["fragments"].size());
  }
  ASSERT_TRUE(whole);
  EXPECT_EQ(*whole, record);
  EXPECT_EQ(reassembler.held_bytes(), 0u);

  const auto certs = test::load_json("cert-vectors.json");
  TrustStore trust;
  trust.add_ca(CaPublicKey{"vector-ca", ed25519_from_seed(hex_array<32>(certs["ca"]["seed"])).public_key});
  RecordStore store(trust);
  auto outcome = store.offer(*whole, vectors()["zeqond"], "peer");
  EXPECT_TRUE(outcome.accepted()) << outcome.detail;
  EXPECT_EQ(store.revocation_digest().at(0).second, f["serial"]);
}

// --- Sizes ------------------------------------------------------------------------

TEST(DirectoryMessages, TheLargestOfEachFitsOneMessage) {
  const Bytes page = encode_digest_page(full_page()).value();
  EXPECT_LE(page.size(), 2 + DIRECTORY_BODY_MAX);
  EXPECT_EQ(page.size(), 2 + 8 + 4 + 32 + 1 + 32 + 4 + 1 + 40 * 24 + 1 + 3 * 40);
  EXPECT_EQ(decode_digest_page(page).value(), full_page());
  const Bytes pull = encode_pull(full_pull()).value();
  EXPECT_LE(pull.size(), 2 + DIRECTORY_BODY_MAX);
  EXPECT_EQ(decode_pull(pull).value(), full_pull());
  const Bytes one(RECORD_WHOLE_MAX, 0x5a);
  EXPECT_EQ(encode_records({one}).value().size(), 2 + DIRECTORY_BODY_MAX);
  const Bytes big(RECORD_WHOLE_MAX + 1, 0x5a);
  EXPECT_FALSE(encode_records({big}));
  EXPECT_EQ(record_fragment_count(big.size()), 2u);
  EXPECT_EQ(encode_record_fragment(record_fragment(1, big, 0).value()).value().size(), 2 + DIRECTORY_BODY_MAX);
  // Records that together pass the body are refused, each alone is fine.
  const Bytes half(600, 1);
  EXPECT_FALSE(encode_records({half, half}));
  EXPECT_TRUE(encode_records({Bytes(596, 1), Bytes(596, 2)}));
}

TEST(DirectoryMessages, FragmentCounts) {
  EXPECT_EQ(record_fragment_count(1), 1u);
  EXPECT_EQ(record_fragment_count(RECORD_WHOLE_MAX), 1u);
  EXPECT_EQ(record_fragment_count(RECORD_WHOLE_MAX + 1), 2u);
  EXPECT_EQ(record_fragment_count(2 * RECORD_FRAGMENT_BYTES), 2u);
  EXPECT_EQ(record_fragment_count(2 * RECORD_FRAGMENT_BYTES + 1), 3u);
  EXPECT_EQ(record_fragment_count(FRAGMENTED_RECORD_MAX), RECORD_FRAGMENTS_MAX);
  EXPECT_FALSE(record_fragment(1, Bytes(FRAGMENTED_RECORD_MAX + 1, 0), 0));
  EXPECT_FALSE(record_fragment(1, Bytes(100, 0), 0));      // travels whole
  EXPECT_FALSE(record_fragment(1, Bytes(3000, 0), 3));     // only 0..2
}

// --- Padding, truncations, bit flips ----------------------------------------------

TEST(DirectoryMessages, ZeroPaddingIsIgnoredOtherBytesAreNot) {
  for (const Bytes& m : sample_messages()) {
    Bytes padded = m;
    padded.resize(m.size() + 15 + (16 - m.size() % 16) % 16, 0);
    EXPECT_TRUE(decodes(padded));
    padded.back() = 0x01;
    EXPECT_FALSE(decodes(padded));
    EXPECT_NE(error_of(padded).find("byte " + std::to_string(padded.size() - 1) + " (padding)"), std::string::npos)
        << error_of(padded);
  }
}

TEST(DirectoryMessages, EveryTruncationIsRefused) {
  for (const Bytes& m : sample_messages()) {
    ASSERT_TRUE(decodes(m));
    for (size_t len = 0; len < m.size(); ++len) {
      const ByteSpan cut(m.data(), len);
      EXPECT_FALSE(decodes(cut)) << "type " << int(m[1]) << " cut to " << len << " of " << m.size();
    }
  }
}

// Nothing authenticates these bytes but the tunnel, so a flipped bit in a
// sequence or a hash is another valid message. What must hold: every flip
// is refused or read as a different message that encodes back to exactly
// the flipped bytes (never two encodings of one message), and flips of the
// framing (kind, type, flags, counts, form, lengths) are refused.
TEST(DirectoryMessages, BitFlipsAreRefusedOrAnotherCanonicalMessage) {
  size_t refused = 0, flips = 0;
  for (const Bytes& m : sample_messages()) {
    const uint8_t type = m[1];
    for (size_t i = 0; i < m.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        Bytes f = m;
        f[i] ^= uint8_t(1 << bit);
        ++flips;
        auto back = reencoded(type, f);
        if (!back) {
          ++refused;
          continue;
        }
        EXPECT_EQ(*back, f) << "type " << int(type) << " byte " << i << " bit " << bit;
        EXPECT_NE(f, m);
      }
    }
  }
  std::printf("%zu single-bit flips of %zu messages: %zu refused, the rest other canonical messages\n", flips,
              sample_messages().size(), refused);
  EXPECT_GT(refused, flips / 4);
}

TEST(DirectoryMessages, FlipsOfTheFramingAreRefused) {
  auto all_flips_refused = [](const Bytes& m, size_t i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes f = m;
      f[i] ^= uint8_t(1 << bit);
      if (reencoded(m[1], f)) return false;
    }
    return true;
  };
  const Bytes page = encode_digest_page(full_page()).value();
  EXPECT_TRUE(all_flips_refused(page, 0));   // kind
  EXPECT_TRUE(all_flips_refused(page, 1));   // type
  EXPECT_TRUE(all_flips_refused(page, 46));  // plat_flag
  EXPECT_TRUE(all_flips_refused(page, 83));  // n
  const Bytes pull = encode_pull(full_pull()).value();
  EXPECT_TRUE(all_flips_refused(pull, 2));   // n
  const auto& v = vectors()["records"];
  const Bytes whole = hex(v["whole"]["encoded"]);
  EXPECT_TRUE(all_flips_refused(whole, 2));  // form
  EXPECT_TRUE(all_flips_refused(whole, 3));  // n
  EXPECT_TRUE(all_flips_refused(whole, 4));  // records[0] length, high byte
  EXPECT_TRUE(all_flips_refused(whole, 5));  // records[0] length, low byte
  const Bytes frag = hex(v["fragmented"]["fragments"][0]);
  EXPECT_TRUE(all_flips_refused(frag, 2));   // form
  EXPECT_TRUE(all_flips_refused(frag, 9));   // length, high byte
  EXPECT_TRUE(all_flips_refused(frag, 10));  // length, low byte
}

// --- Rules, with the field and offset they name -------------------------------------

TEST(DirectoryMessages, DigestRulesNameTheFieldAndOffset) {
  auto refused = [](DigestPage p, const std::string& want) {
    auto e = encode_digest_page(p);
    ASSERT_FALSE(e) << "accepted: " << want;
    EXPECT_NE(e.message().find(want), std::string::npos) << e.message();
  };
  DigestPage p = full_page();
  std::swap(p.entries[3], p.entries[4]);
  refused(p, "byte 180 (entries[4] zid)");  // 84 + 4 * 24
  p = full_page();
  p.entries[5] = p.entries[4];
  refused(p, "(entries[5] zid)");
  p = full_page();
  p.entries[0].zid = "zeq-00000000000G";
  refused(p, "byte 84 (entries[0] zid): not a ZID");
  p = full_page();
  p.entries[1].sequence = 0;
  refused(p, "byte 124 (entries[1] sequence): 0");
  p = full_page();
  std::swap(p.lists[0], p.lists[1]);
  refused(p, "(lists[1] issuer)");
  p = full_page();
  p.page = 250;
  refused(p, "byte 79 (page): page 250 of 250");
  p = full_page();
  p.pages = 0;
  refused(p, "(page): page 7 of a summary");
  p = full_page();
  p.page = 0;
  p.pages = 0;
  refused(p, "(n): a summary (pages 0) with entries");
  p = full_page();
  p.entries.clear();
  p.lists.clear();
  refused(p, "(n): a page with no entries");
  p = full_page();
  p.record_count = 42;
  refused(p, "byte 10 (record_count): 42, fewer than the 43 entries");
  p = full_page();
  p.entries.push_back({zid_n(0xffff), 1});
  refused(p, "a page holds at most 40");

  Bytes m = encode_digest_page(full_page()).value();
  m[46] = 2;
  EXPECT_NE(decode_digest_page(m).message().find("directory digest byte 46 (plat_flag): 2 is neither"), std::string::npos);
  m = encode_digest_page(full_page()).value();
  m[83] = 41;
  EXPECT_NE(decode_digest_page(m).message().find("byte 83 (n): 41 entries"), std::string::npos);
  m = encode_digest_page(full_page()).value();
  m[1] = CONTROL_DIRECTORY_PULL;
  EXPECT_NE(decode_digest_page(m).message().find("byte 1 (type): control type 0x04, expected 0x03"), std::string::npos);
  m[0] = 0;
  EXPECT_NE(decode_digest_page(m).message().find("byte 0 (kind)"), std::string::npos);
  m = encode_digest_page(full_page()).value();
  m.resize(60);
  EXPECT_NE(decode_digest_page(m).message().find("byte 47 (plat): the message ends after 60 bytes"), std::string::npos);
}

TEST(DirectoryMessages, PullRules) {
  auto refused = [](const PullRequest& p, const std::string& want) {
    auto e = encode_pull(p);
    ASSERT_FALSE(e) << "accepted: " << want;
    EXPECT_NE(e.message().find(want), std::string::npos) << e.message();
  };
  refused(PullRequest{}, "byte 3 (m): a pull that asks for nothing");
  PullRequest p = full_pull();
  p.zids.push_back(zid_n(0xffff));
  refused(p, "at most 64");
  p = full_pull();
  std::swap(p.zids[0], p.zids[1]);
  refused(p, "byte 19 (zids[1]): " + zid_n(0x2000) + " is not after");
  p = full_pull();
  p.issuers[2] = p.issuers[1];
  refused(p, "(issuers[2]): not after");
  p = PullRequest{};
  p.issuers = {issuer_n(1)};
  EXPECT_TRUE(encode_pull(p));
  Bytes m = encode_pull(full_pull()).value();
  m[2] = 65;
  EXPECT_NE(decode_pull(m).message().find("directory pull byte 2 (n): 65 ZIDs"), std::string::npos);
}

TEST(DirectoryMessages, RecordsRules) {
  Bytes m = encode_records({Bytes(10, 1)}).value();
  m[2] = 2;
  EXPECT_NE(decode_records(m).message().find("directory records byte 2 (form): 2 is neither"), std::string::npos);
  m = encode_records({Bytes(10, 1)}).value();
  m[3] = 0;
  EXPECT_NE(decode_records(m).message().find("byte 3 (n): 0 records"), std::string::npos);
  m = encode_records({Bytes(10, 1)}).value();
  m[4] = 0, m[5] = 0;
  EXPECT_NE(decode_records(m).message().find("byte 4 (records[0] length): 0"), std::string::npos);
  EXPECT_FALSE(encode_records({}));
  EXPECT_FALSE(encode_records({Bytes{}}));
  // A length that takes the body past 1200 bytes, with the bytes there.
  m = encode_records({Bytes(RECORD_WHOLE_MAX, 1)}).value();
  m.push_back(0);
  store_be16(m.data() + 4, uint16_t(RECORD_WHOLE_MAX + 1));
  m.push_back(7);
  EXPECT_NE(decode_records(m).message().find("take the body past 1200"), std::string::npos);

  const Bytes big(3000, 9);
  RecordFragment f = record_fragment(5, big, 1).value();
  f.bytes.pop_back();  // a middle fragment short
  EXPECT_NE(encode_record_fragment(f).message().find("(length): 1190; every fragment but the last"), std::string::npos);
  f = record_fragment(5, big, 2).value();
  f.count = 1;
  EXPECT_NE(encode_record_fragment(f).message().find("byte 7 (fragment): fragment 2 of 1"), std::string::npos);
  f.count = 2;
  EXPECT_FALSE(encode_record_fragment(f));  // index 2 of 2
  // A record that would fit whole, cut in two: refused.
  f = RecordFragment{5, 1, 2, Bytes(RECORD_WHOLE_MAX - RECORD_FRAGMENT_BYTES, 1)};
  EXPECT_NE(encode_record_fragment(f).message().find("travels whole"), std::string::npos);
  f.bytes.push_back(1);
  EXPECT_TRUE(encode_record_fragment(f));
  f.bytes.clear();
  EXPECT_FALSE(encode_record_fragment(f));
}

// --- Reassembly ---------------------------------------------------------------------

TEST(RecordReassembler, InOrderOutOfOrderRestartAndTimeout) {
  Bytes record(5000);
  for (size_t i = 0; i < record.size(); ++i) record[i] = uint8_t(i * 7);
  auto frag = [&](uint32_t id, size_t i) { return record_fragment(id, record, i).value(); };
  const size_t n = record_fragment_count(record.size());
  ASSERT_EQ(n, 5u);

  RecordReassembler r;
  for (size_t i = 0; i + 1 < n; ++i) EXPECT_FALSE(r.add(frag(1, i), 10));
  EXPECT_EQ(r.held_bytes(), 4 * RECORD_FRAGMENT_BYTES);
  EXPECT_EQ(r.add(frag(1, n - 1), 10).value(), record);
  EXPECT_EQ(r.discarded(), 0u);

  // A gap: the partial record and the fragment are dropped; the rest too.
  EXPECT_FALSE(r.add(frag(2, 0), 10));
  EXPECT_FALSE(r.add(frag(2, 2), 10));
  EXPECT_EQ(r.held_bytes(), 0u);
  EXPECT_EQ(r.discarded(), 2u);
  EXPECT_FALSE(r.add(frag(2, 3), 10));
  EXPECT_FALSE(r.add(frag(2, 4), 10));
  EXPECT_EQ(r.discarded(), 4u);

  // Another record's fragment mid-way, and a new fragment 0 mid-way.
  EXPECT_FALSE(r.add(frag(3, 0), 10));
  EXPECT_FALSE(r.add(frag(4, 1), 10));
  EXPECT_EQ(r.discarded(), 6u);
  EXPECT_FALSE(r.add(frag(5, 0), 10));
  EXPECT_FALSE(r.add(frag(5, 1), 10));
  EXPECT_FALSE(r.add(frag(6, 0), 10));  // gives up record 5
  EXPECT_EQ(r.discarded(), 7u);
  for (size_t i = 1; i + 1 < n; ++i) EXPECT_FALSE(r.add(frag(6, i), 11));
  EXPECT_EQ(r.add(frag(6, n - 1), 12).value(), record);

  // Silence for RECORD_REASSEMBLY_TIMEOUT_Z drops a partial record.
  EXPECT_FALSE(r.add(frag(7, 0), 20));
  r.expire(20 + RECORD_REASSEMBLY_TIMEOUT_Z - 1);
  EXPECT_GT(r.held_bytes(), 0u);
  r.expire(20 + RECORD_REASSEMBLY_TIMEOUT_Z);
  EXPECT_EQ(r.held_bytes(), 0u);
  EXPECT_FALSE(r.add(frag(7, 1), 30));
}

TEST(RecordReassembler, HoldsAtMostTheLargestRecord) {
  const Bytes record(FRAGMENTED_RECORD_MAX, 0x33);
  RecordReassembler r;
  size_t most = 0;
  std::optional<Bytes> whole;
  for (size_t i = 0; i < RECORD_FRAGMENTS_MAX; ++i) {
    whole = r.add(record_fragment(9, record, i).value(), 1);
    most = std::max(most, r.held_bytes());
  }
  EXPECT_LE(most, FRAGMENTED_RECORD_MAX);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->size(), FRAGMENTED_RECORD_MAX);
}

}  // namespace zeq
