// Relay wire code (protocol/relay_messages.hpp, docs/protocol.md "Relays"):
// the control messages 0x10..0x19 byte for byte and round trip, their one
// canonical form (zero padding only, every malformed field refused),
// RelayData's GMAC checked against OpenSSL EVP called directly (not against
// the code itself), usage receipts against a signature made by Python's
// cryptography (tests/fuzz/make_corpus.py usage_receipt), and the relay's
// token bucket (mesh/relay_switch.hpp) on a fake clock.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <climits>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "crypto/aead.hpp"
#include "crypto/ed25519.hpp"
#include "mesh/relay_switch.hpp"
#include "protocol/relay_messages.hpp"
#include "protocol/wire.hpp"

namespace zeq {
namespace {

// Hex with spaces allowed between groups.
Bytes H(std::string_view s) {
  std::string t;
  for (char c : s)
    if (c != ' ') t.push_back(c);
  auto b = from_hex(t);
  if (!b) ADD_FAILURE() << "bad hex in the test: " << s;
  return b.value_or(Bytes{});
}

const std::string ZID_A = "zeq-b097557f7185";
const std::string ZID_B = "zeq-445713479455";
const std::string ZID_C = "zeq-0123456789ab";

Bytes with(Bytes b, size_t at, std::initializer_list<uint8_t> bytes) {
  if (b.size() < at + bytes.size()) b.resize(at + bytes.size(), 0);
  std::copy(bytes.begin(), bytes.end(), b.begin() + long(at));
  return b;
}

Bytes padded(Bytes b, size_t zeros) {
  b.resize(b.size() + zeros, 0);
  return b;
}

using Accepts = std::function<bool(ByteSpan)>;

// What every control message parser owes its one canonical form: the
// message itself parses, with any zero padding after it; no prefix does;
// a non-zero byte anywhere after the body, another first byte or another
// type byte is refused.
void expect_canonical(const char* what, const Bytes& wire, const Accepts& accepts) {
  SCOPED_TRACE(what);
  ASSERT_GE(wire.size(), 2u);
  EXPECT_TRUE(accepts(wire));
  for (size_t zeros : {1, 2, 10, 100, 1400}) EXPECT_TRUE(accepts(padded(wire, zeros))) << zeros << " zeros";
  for (size_t n = 0; n < wire.size(); ++n) EXPECT_FALSE(accepts(ByteSpan(wire.data(), n))) << "truncated to " << n;
  const Bytes pad = padded(wire, 16);
  for (size_t at = wire.size(); at < pad.size(); ++at)
    for (uint8_t v : {0x01, 0x80, 0xff}) EXPECT_FALSE(accepts(with(pad, at, {v}))) << "byte " << int(v) << " at " << at;
  for (uint8_t first : {0x00, 0x02, 0x04, 0x10, 0xff}) EXPECT_FALSE(accepts(with(wire, 0, {first}))) << "first " << int(first);
  for (int type = 0; type < 256; ++type) {
    if (type == wire[1]) continue;
    EXPECT_FALSE(accepts(with(wire, 1, {uint8_t(type)}))) << "type " << type;
    EXPECT_FALSE(accepts(with(pad, 1, {uint8_t(type)}))) << "padded, type " << type;
  }
}

template <class F>
Accepts accepts(F parse) {
  return [parse](ByteSpan b) { return parse(b).has_value(); };
}

// Every parser that is not meant for the message's type refuses it.
void expect_only_one_parser(const Bytes& wire, int expected) {
  const std::vector<Accepts> all = {
      accepts(parse_relay_open),    accepts(parse_relay_offer),   accepts(parse_relay_answer),
      accepts(parse_relay_opened),  accepts(parse_relay_refused), accepts(parse_relay_close),
      accepts(parse_relay_ping),    accepts(parse_relay_pong),    accepts(parse_relay_receipt)};
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i](wire), int(i) == expected) << "parser " << i;
}

std::string hexs(ByteSpan b) { return to_hex(b); }

// ---- the bytes, as docs/protocol.md lays them out ----

TEST(RelayControl, OpenBytesAsDocumented) {
  // docs/protocol.md's example: Open of zeq-b097557f7185, request_id 1.
  const Bytes wire = encode_relay_open({1, ZID_A});
  EXPECT_EQ(hexs(wire), hexs(H("0110 00000001 7a65712d623039373535376637313835")));
  auto back = parse_relay_open(wire);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->request_id, 1u);
  EXPECT_EQ(back->target_zid, ZID_A);
  // Padded to 32 as padding `none` does.
  ASSERT_TRUE(parse_relay_open(padded(wire, 10)));
  expect_only_one_parser(wire, 0);
}

TEST(RelayControl, EveryTypeBytesAsDocumented) {
  EXPECT_EQ(hexs(encode_relay_offer({0x000102, ZID_C})), hexs(H("0111 00000102 7a65712d303132333435363738396162")));
  EXPECT_EQ(hexs(encode_relay_accept(0xabcdef)), hexs(H("0112 00abcdef")));
  EXPECT_EQ(hexs(encode_relay_decline(5, RelayReason::kDeclined)), hexs(H("0113 00000005 02")));
  EXPECT_EQ(hexs(encode_relay_opened({0x01020304, 0xfffffe, PricingUnit::kZeqond, 0x1122334455667788})),
            hexs(H("0114 01020304 00fffffe 01 1122334455667788")));
  EXPECT_EQ(hexs(encode_relay_refused({7, RelayReason::kPairLimit})), hexs(H("0115 00000007 03")));
  EXPECT_EQ(hexs(encode_relay_close({0xffffff, RelayReason::kEndGone})), hexs(H("0116 00ffffff 06")));
  EXPECT_EQ(hexs(encode_relay_ping({0x8000000000000001})), hexs(H("0117 8000000000000001")));
  EXPECT_EQ(hexs(encode_relay_pong({3, PricingUnit::kGb, 250, "eu-west.1"})),
            hexs(H("0118 0000000000000003 00 00000000000000fa 09 65752d776573742e31")));
  EXPECT_EQ(hexs(encode_relay_pong({0xfedcba9876543210, PricingUnit::kZeqond, 1, ""})),
            hexs(H("0118 fedcba9876543210 01 0000000000000001 00")));
  const Bytes receipt(USAGE_RECEIPT_SIZE, 0x5a);
  Bytes expected = H("0119");
  expected.insert(expected.end(), receipt.begin(), receipt.end());
  EXPECT_EQ(hexs(encode_relay_receipt(receipt)), hexs(expected));
}

TEST(RelayControl, TypeValuesAndBodySizes) {
  // The body sizes of the docs' table (2 bytes 01 || type before them).
  EXPECT_EQ(encode_relay_open({}).size(), 2u + 20);
  EXPECT_EQ(encode_relay_offer({}).size(), 2u + 20);
  EXPECT_EQ(encode_relay_accept(1).size(), 2u + 4);
  EXPECT_EQ(encode_relay_decline(1, RelayReason::kDeclined).size(), 2u + 5);
  EXPECT_EQ(encode_relay_opened({}).size(), 2u + 17);
  EXPECT_EQ(encode_relay_refused({}).size(), 2u + 5);
  EXPECT_EQ(encode_relay_close({}).size(), 2u + 5);
  EXPECT_EQ(encode_relay_ping({}).size(), 2u + 8);
  EXPECT_EQ(encode_relay_pong({}).size(), 2u + 18);
  EXPECT_EQ(encode_relay_pong({0, PricingUnit::kGb, 0, std::string(32, 'x')}).size(), 2u + 18 + 32);
  EXPECT_EQ(USAGE_RECEIPT_SIZE, 193u);
  EXPECT_EQ(RELAY_OVERHEAD, 32u);
  for (int t = 0; t < 256; ++t) EXPECT_EQ(is_relay_control(uint8_t(t)), t >= 0x10 && t <= 0x19) << t;
  EXPECT_STREQ(relay_reason_name(RelayReason::kNone), "none");
  EXPECT_STREQ(relay_reason_name(RelayReason::kTargetUnknown), "target_unknown");
  EXPECT_STREQ(relay_reason_name(RelayReason::kDeclined), "declined");
  EXPECT_STREQ(relay_reason_name(RelayReason::kPairLimit), "pair_limit");
  EXPECT_STREQ(relay_reason_name(RelayReason::kNotRelay), "not_relay");
  EXPECT_STREQ(relay_reason_name(RelayReason::kClosed), "closed");
  EXPECT_STREQ(relay_reason_name(RelayReason::kEndGone), "end_gone");
  EXPECT_STREQ(relay_reason_name(RelayReason::kTimeout), "timeout");
  EXPECT_STREQ(relay_reason_name(RelayReason::kSelf), "self");
  EXPECT_STREQ(relay_reason_name(RelayReason::kBusy), "busy");
  EXPECT_STREQ(relay_reason_name(RelayReason(RELAY_REASON_MAX + 1)), "unknown");
}

// ---- round trips, padding, the canonical form ----

TEST(RelayControl, OpenRoundTripAndCanonical) {
  for (uint32_t id : {0u, 1u, 0x7fffffffu, 0xffffffffu})
    for (const std::string& zid : {ZID_A, ZID_B, ZID_C}) {
      const Bytes wire = encode_relay_open({id, zid});
      for (const Bytes& b : {wire, padded(wire, 42)}) {
        auto back = parse_relay_open(b);
        ASSERT_TRUE(back);
        EXPECT_EQ(back->request_id, id);
        EXPECT_EQ(back->target_zid, zid);
        EXPECT_EQ(encode_relay_open(*back), wire);
      }
    }
  expect_canonical("open", encode_relay_open({9, ZID_B}), accepts(parse_relay_open));
}

TEST(RelayControl, OfferRoundTripAndCanonical) {
  for (uint32_t ch : {1u, 2u, 0x000102u, 0x800000u, RELAY_CHANNEL_MAX}) {
    const Bytes wire = encode_relay_offer({ch, ZID_B});
    for (const Bytes& b : {wire, padded(wire, 10)}) {
      auto back = parse_relay_offer(b);
      ASSERT_TRUE(back) << ch;
      EXPECT_EQ(back->channel, ch);
      EXPECT_EQ(back->requester_zid, ZID_B);
      EXPECT_EQ(encode_relay_offer(*back), wire);
    }
  }
  const Bytes wire = encode_relay_offer({0x000102, ZID_C});
  expect_canonical("offer", wire, accepts(parse_relay_offer));
  expect_only_one_parser(wire, 1);
}

TEST(RelayControl, AcceptAndDeclineRoundTripAndCanonical) {
  for (uint32_t ch : {1u, 0xabcdefu, RELAY_CHANNEL_MAX}) {
    const Bytes wire = encode_relay_accept(ch);
    for (const Bytes& b : {wire, padded(wire, 26)}) {
      auto back = parse_relay_answer(b);
      ASSERT_TRUE(back);
      EXPECT_EQ(back->channel, ch);
      EXPECT_EQ(back->reason, RelayReason::kNone);  // an Accept
    }
    for (uint8_t r = 1; r <= RELAY_REASON_MAX; ++r) {
      const Bytes decline = encode_relay_decline(ch, RelayReason(r));
      for (const Bytes& b : {decline, padded(decline, 25)}) {
        auto back = parse_relay_answer(b);
        ASSERT_TRUE(back) << int(r);
        EXPECT_EQ(back->channel, ch);
        EXPECT_EQ(back->reason, RelayReason(r));
        EXPECT_EQ(encode_relay_decline(back->channel, back->reason), decline);
      }
    }
  }
  expect_canonical("accept", encode_relay_accept(77), accepts(parse_relay_answer));
  expect_canonical("decline", encode_relay_decline(77, RelayReason::kDeclined), accepts(parse_relay_answer));
  expect_only_one_parser(encode_relay_accept(77), 2);
  expect_only_one_parser(encode_relay_decline(77, RelayReason::kTimeout), 2);
  // An Accept with a reason after it is not an Accept: the byte is not padding.
  EXPECT_FALSE(parse_relay_answer(with(encode_relay_accept(77), 6, {uint8_t(RelayReason::kDeclined)})));
}

TEST(RelayControl, OpenedRoundTripAndCanonical) {
  for (PricingUnit unit : {PricingUnit::kGb, PricingUnit::kZeqond})
    for (uint64_t price : {uint64_t(0), uint64_t(3), std::numeric_limits<uint64_t>::max()}) {
      const RelayOpened m{0xffffffff, RELAY_CHANNEL_MAX, unit, price};
      const Bytes wire = encode_relay_opened(m);
      for (const Bytes& b : {wire, padded(wire, 13)}) {
        auto back = parse_relay_opened(b);
        ASSERT_TRUE(back);
        EXPECT_EQ(back->request_id, m.request_id);
        EXPECT_EQ(back->channel, m.channel);
        EXPECT_EQ(back->unit, unit);
        EXPECT_EQ(back->price, price);
        EXPECT_EQ(encode_relay_opened(*back), wire);
      }
    }
  const Bytes wire = encode_relay_opened({1, 0xfffffe, PricingUnit::kZeqond, 3});
  expect_canonical("opened", wire, accepts(parse_relay_opened));
  expect_only_one_parser(wire, 3);
}

TEST(RelayControl, RefusedAndCloseRoundTripAndCanonical) {
  for (uint8_t r = 1; r <= RELAY_REASON_MAX; ++r) {
    const Bytes refused = encode_relay_refused({0x01020304, RelayReason(r)});
    auto a = parse_relay_refused(padded(refused, 7));
    ASSERT_TRUE(a) << int(r);
    EXPECT_EQ(a->request_id, 0x01020304u);
    EXPECT_EQ(a->reason, RelayReason(r));
    EXPECT_EQ(encode_relay_refused(*a), refused);
    const Bytes close = encode_relay_close({0x00abcd, RelayReason(r)});
    auto c = parse_relay_close(padded(close, 7));
    ASSERT_TRUE(c) << int(r);
    EXPECT_EQ(c->channel, 0x00abcdu);
    EXPECT_EQ(c->reason, RelayReason(r));
    EXPECT_EQ(encode_relay_close(*c), close);
  }
  // request_id takes any value, 0 included.
  EXPECT_TRUE(parse_relay_refused(encode_relay_refused({0, RelayReason::kBusy})));
  const Bytes refused = encode_relay_refused({7, RelayReason::kPairLimit});
  const Bytes close = encode_relay_close({0xffffff, RelayReason::kEndGone});
  expect_canonical("refused", refused, accepts(parse_relay_refused));
  expect_canonical("close", close, accepts(parse_relay_close));
  expect_only_one_parser(refused, 4);
  expect_only_one_parser(close, 5);
}

TEST(RelayControl, PingPongRoundTripAndCanonical) {
  for (uint64_t nonce : {uint64_t(0), uint64_t(1), std::numeric_limits<uint64_t>::max()}) {
    const Bytes ping = encode_relay_ping({nonce});
    auto p = parse_relay_ping(padded(ping, 6));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->nonce, nonce);
    EXPECT_EQ(encode_relay_ping(*p), ping);
  }
  const std::string all_classes = "AZaz09._-";
  for (const std::string& region : {std::string(), std::string("eu-west.1"), all_classes, std::string(32, 'Q'),
                                    std::string("abcdefghijklmnopqrstuvwxyz_.-0189")}) {
    ASSERT_LE(region.size(), RELAY_REGION_MAX + 1);
    const RelayPong m{0x0123456789abcdef, PricingUnit::kZeqond, 250, region};
    const Bytes wire = encode_relay_pong(m);
    auto back = parse_relay_pong(padded(wire, 5));
    if (region.size() > RELAY_REGION_MAX) {
      EXPECT_FALSE(back) << region;
      EXPECT_FALSE(valid_region(region));
      continue;
    }
    ASSERT_TRUE(back) << region;
    EXPECT_TRUE(valid_region(region));
    EXPECT_EQ(back->nonce, m.nonce);
    EXPECT_EQ(back->unit, m.unit);
    EXPECT_EQ(back->price, m.price);
    EXPECT_EQ(back->region, region);
    EXPECT_EQ(encode_relay_pong(*back), wire);
  }
  const Bytes ping = encode_relay_ping({0x8000000000000001});
  const Bytes pong = encode_relay_pong({3, PricingUnit::kGb, 250, "eu-west.1"});
  const Bytes pong_empty = encode_relay_pong({3, PricingUnit::kGb, 250, ""});
  expect_canonical("ping", ping, accepts(parse_relay_ping));
  expect_canonical("pong", pong, accepts(parse_relay_pong));
  expect_canonical("pong, empty region", pong_empty, accepts(parse_relay_pong));
  expect_only_one_parser(ping, 6);
  expect_only_one_parser(pong, 7);
}

TEST(RelayControl, ReceiptMessageRoundTripAndCanonical) {
  Bytes receipt(USAGE_RECEIPT_SIZE);
  for (size_t i = 0; i < receipt.size(); ++i) receipt[i] = uint8_t(i * 7 + 1);
  const Bytes wire = encode_relay_receipt(receipt);
  for (const Bytes& b : {wire, padded(wire, 15)}) {
    auto back = parse_relay_receipt(b);
    ASSERT_TRUE(back);
    EXPECT_EQ(hexs(*back), hexs(receipt));
  }
  expect_canonical("receipt", wire, accepts(parse_relay_receipt));
  expect_only_one_parser(wire, 8);
}

// ---- malformed fields ----

TEST(RelayControl, ChannelOutOfRangeIsRefused) {
  struct Case {
    const char* what;
    Bytes wire;
    size_t at;  // the channel's offset
    Accepts parse;
  };
  const std::vector<Case> cases = {
      {"offer", encode_relay_offer({5, ZID_A}), 2, accepts(parse_relay_offer)},
      {"accept", encode_relay_accept(5), 2, accepts(parse_relay_answer)},
      {"decline", encode_relay_decline(5, RelayReason::kDeclined), 2, accepts(parse_relay_answer)},
      {"opened", encode_relay_opened({1, 5, PricingUnit::kGb, 9}), 6, accepts(parse_relay_opened)},
      {"close", encode_relay_close({5, RelayReason::kClosed}), 2, accepts(parse_relay_close)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_TRUE(c.parse(c.wire));
    EXPECT_TRUE(c.parse(with(c.wire, c.at, {0x00, 0x00, 0x00, 0x01})));
    EXPECT_TRUE(c.parse(with(c.wire, c.at, {0x00, 0xff, 0xff, 0xff})));
    EXPECT_FALSE(c.parse(with(c.wire, c.at, {0x00, 0x00, 0x00, 0x00})));
    EXPECT_FALSE(c.parse(with(c.wire, c.at, {0x01, 0x00, 0x00, 0x00})));
    EXPECT_FALSE(c.parse(with(c.wire, c.at, {0x01, 0x00, 0x00, 0x01})));
    EXPECT_FALSE(c.parse(with(c.wire, c.at, {0x80, 0x00, 0x01, 0x02})));
    EXPECT_FALSE(c.parse(with(c.wire, c.at, {0xff, 0xff, 0xff, 0xff})));
  }
}

TEST(RelayControl, ReasonOutOfRangeIsRefused) {
  struct Case {
    const char* what;
    Bytes wire;
    Accepts parse;
  };
  const std::vector<Case> cases = {
      {"decline", encode_relay_decline(5, RelayReason::kDeclined), accepts(parse_relay_answer)},
      {"refused", encode_relay_refused({5, RelayReason::kBusy}), accepts(parse_relay_refused)},
      {"close", encode_relay_close({5, RelayReason::kClosed}), accepts(parse_relay_close)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ASSERT_EQ(c.wire.size(), 7u);  // the reason is the last byte
    for (int r = 0; r < 256; ++r) {
      const Bytes b = with(c.wire, 6, {uint8_t(r)});
      EXPECT_EQ(c.parse(b), r >= 1 && r <= RELAY_REASON_MAX) << "reason " << r;
      EXPECT_EQ(c.parse(padded(b, 9)), r >= 1 && r <= RELAY_REASON_MAX) << "padded, reason " << r;
    }
  }
}

TEST(RelayControl, UnitOtherThanGbOrZeqondIsRefused) {
  const Bytes opened = encode_relay_opened({1, 5, PricingUnit::kGb, 9});
  const Bytes pong = encode_relay_pong({1, PricingUnit::kGb, 9, "x"});
  ASSERT_EQ(opened[10], 0);  // unit after request_id and channel
  ASSERT_EQ(pong[10], 0);    // unit after the nonce
  for (int u = 0; u < 256; ++u) {
    EXPECT_EQ(bool(parse_relay_opened(with(opened, 10, {uint8_t(u)}))), u <= 1) << u;
    EXPECT_EQ(bool(parse_relay_pong(with(pong, 10, {uint8_t(u)}))), u <= 1) << u;
  }
}

TEST(RelayControl, InvalidZidIsRefused) {
  const std::vector<std::string> bad = {
      "ZEQ-0123456789ab", "zeq-0123456789AB", "zeq_0123456789ab", "zeq-0123456789ag", "zeq-0123456789a ",
      "zeq-0123456789a\x01", std::string("zeq-01234567\0" "9ab", 16), std::string(16, '\0'), "zeq--123456789ab", "xeq-0123456789ab",
  };
  const Bytes open = encode_relay_open({1, ZID_C});
  const Bytes offer = encode_relay_offer({1, ZID_C});
  ASSERT_TRUE(parse_relay_open(open));
  ASSERT_TRUE(parse_relay_offer(offer));
  for (const std::string& z : bad) {
    ASSERT_EQ(z.size(), 16u);
    Bytes o = open, f = offer;
    std::copy(z.begin(), z.end(), o.begin() + 6);
    std::copy(z.begin(), z.end(), f.begin() + 6);
    EXPECT_FALSE(parse_relay_open(o)) << to_hex(as_bytes(z));
    EXPECT_FALSE(parse_relay_offer(f)) << to_hex(as_bytes(z));
    EXPECT_FALSE(parse_relay_open(padded(o, 10))) << to_hex(as_bytes(z));
  }
  // The encoder writes what it is given: a short ZID is zero-filled, which
  // the parser then refuses.
  EXPECT_FALSE(parse_relay_open(encode_relay_open({1, "zeq-0123"})));
}

TEST(RelayControl, BadRegionIsRefused) {
  const Bytes base = encode_relay_pong({1, PricingUnit::kGb, 9, ""});
  ASSERT_EQ(base.size(), 20u);  // n at offset 19
  auto pong_with = [&](uint8_t n, std::string_view text) {
    Bytes b = base;
    b[19] = n;
    b.insert(b.end(), text.begin(), text.end());
    return b;
  };
  EXPECT_TRUE(parse_relay_pong(pong_with(32, std::string(32, 'a'))));
  EXPECT_FALSE(parse_relay_pong(pong_with(33, std::string(33, 'a'))));            // too long
  EXPECT_FALSE(parse_relay_pong(padded(pong_with(33, std::string(33, 'a')), 8)));
  EXPECT_FALSE(parse_relay_pong(pong_with(255, std::string(255, 'a'))));
  EXPECT_FALSE(parse_relay_pong(encode_relay_pong({1, PricingUnit::kGb, 9, std::string(33, 'a')})));
  for (char c : std::string("\x00 /+~:,@!\x7f\x80\xff\n\t", 14)) {
    std::string region = "eu-" + std::string(1, c) + "1";
    EXPECT_FALSE(parse_relay_pong(pong_with(uint8_t(region.size()), region))) << int(uint8_t(c));
    EXPECT_FALSE(valid_region(region)) << int(uint8_t(c));
  }
  // n running past the end of the message, and into the zero padding.
  EXPECT_FALSE(parse_relay_pong(pong_with(4, "ab")));
  EXPECT_FALSE(parse_relay_pong(padded(pong_with(4, "ab"), 10)));
  EXPECT_FALSE(parse_relay_pong(padded(pong_with(1, ""), 10)));
  // Missing n altogether.
  EXPECT_FALSE(parse_relay_pong(ByteSpan(base.data(), 19)));
}

TEST(RelayControl, ReceiptMessageMalformedIsRefused) {
  Bytes receipt(USAGE_RECEIPT_SIZE, 0x33);
  Bytes wire = encode_relay_receipt(receipt);
  EXPECT_FALSE(parse_relay_receipt(encode_relay_receipt(ByteSpan(receipt.data(), USAGE_RECEIPT_SIZE - 1))));
  // 194 bytes: the last is not zero.
  Bytes longer = receipt;
  longer.push_back(0x01);
  EXPECT_FALSE(parse_relay_receipt(encode_relay_receipt(longer)));
  longer.back() = 0;
  EXPECT_TRUE(parse_relay_receipt(encode_relay_receipt(longer)));
  EXPECT_FALSE(parse_relay_receipt(Bytes{}));
  EXPECT_FALSE(parse_relay_receipt(Bytes{0x01}));
  EXPECT_FALSE(parse_relay_receipt(Bytes{0x01, CONTROL_RELAY_RECEIPT}));
}

// ---- RelayData ----

using Key = std::array<uint8_t, 32>;

Key key_from(uint8_t first) {
  Key k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = uint8_t(first + i);
  return k;
}

AeadContext context(AeadContext::Direction dir, const Key& key) {
  auto c = AeadContext::create(dir, key);
  EXPECT_TRUE(c.is_ok());
  return std::move(c).value();
}

Bytes relay_message(ByteSpan carried) {
  Bytes m(RELAY_OVERHEAD + carried.size(), 0xee);  // garbage where the header and tag go
  std::copy(carried.begin(), carried.end(), m.begin() + long(RELAY_OVERHEAD));
  return m;
}

// The GMAC of docs/protocol.md "Relays", straight through OpenSSL EVP:
// AES-256-GCM, IV 00000000 || be64(counter), AAD header || carried, no
// plaintext.
std::array<uint8_t, 16> reference_tag(const Key& key, uint64_t counter, ByteSpan header, ByteSpan carried) {
  std::array<uint8_t, 16> tag{};
  uint8_t iv[12] = {0, 0, 0, 0};
  for (int i = 0; i < 8; ++i) iv[4 + i] = uint8_t(counter >> (56 - 8 * i));
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> c(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int n = 0;
  uint8_t none[16];
  bool ok = c && EVP_EncryptInit_ex(c.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
            EVP_EncryptInit_ex(c.get(), nullptr, nullptr, key.data(), iv) == 1 &&
            EVP_EncryptUpdate(c.get(), nullptr, &n, header.data(), int(header.size())) == 1 &&
            EVP_EncryptUpdate(c.get(), nullptr, &n, carried.data(), int(carried.size())) == 1 &&
            EVP_EncryptFinal_ex(c.get(), none, &n) == 1 &&
            EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, 16, tag.data()) == 1;
  EXPECT_TRUE(ok);
  return tag;
}

TEST(RelayData, FixedVectorMatchesOpenSslReference) {
  // key 00..1f, channel 0x000102, receiver_index 0x11223344, counter 7,
  // carried "zeqvpn". The whole message as Python's cryptography computes
  // it (AESGCM(key).encrypt(iv, b"", header + carried), tests/fuzz/
  // make_corpus.py relay_data), and the tag again through EVP here.
  const Key key = key_from(0x00);
  const Bytes expected = H("10 000102 11223344 0000000000000007 aadfa7c746250c4bf8872439f249dbaf 7a657176706e");
  AeadContext seal = context(AeadContext::Direction::kSeal, key);
  const std::string_view carried = "zeqvpn";
  Bytes msg = relay_message(as_bytes(carried));
  ASSERT_TRUE(seal_relay_data(seal, 0x000102, 0x11223344, 7, msg.data(), carried.size()));
  EXPECT_EQ(hexs(ByteSpan(msg.data(), RELAY_HEADER_SIZE)), "10000102112233440000000000000007");
  const auto ref = reference_tag(key, 7, ByteSpan(msg.data(), RELAY_HEADER_SIZE), as_bytes(carried));
  EXPECT_EQ(hexs(ByteSpan(msg.data() + RELAY_HEADER_SIZE, AEAD_TAG_SIZE)), hexs(ref));
  EXPECT_EQ(hexs(msg), hexs(expected));

  RelayDataHeader h;
  ASSERT_TRUE(parse_relay_data_header(expected, h));
  EXPECT_EQ(h.channel, 0x000102u);
  EXPECT_EQ(h.receiver_index, 0x11223344u);
  EXPECT_EQ(h.counter, 7u);
  AeadContext open = context(AeadContext::Direction::kOpen, key);
  EXPECT_TRUE(verify_relay_data(open, expected.data(), expected.size()));
}

TEST(RelayData, TagMatchesReferenceForEveryCounter) {
  // The nonce is be32(0) || be64(counter): the code's tag equals EVP's with
  // that IV, over counters that exercise every byte of it.
  const Key key = key_from(0x40);
  AeadContext seal = context(AeadContext::Direction::kSeal, key);
  AeadContext open = context(AeadContext::Direction::kOpen, key);
  const Bytes carried = H("04000000 55667788 0000000089b25b0e 0000000000000001 00112233445566778899aabbccddeeff");
  for (uint64_t counter : {uint64_t(0), uint64_t(1), uint64_t(0xff), uint64_t(0x100), uint64_t(0xffffffff),
                           uint64_t(0x100000000), uint64_t(0x0123456789abcdef), std::numeric_limits<uint64_t>::max()}) {
    Bytes msg = relay_message(carried);
    ASSERT_TRUE(seal_relay_data(seal, 0xabcdef, 0x01020304, counter, msg.data(), carried.size()));
    const auto ref = reference_tag(key, counter, ByteSpan(msg.data(), RELAY_HEADER_SIZE), carried);
    EXPECT_EQ(hexs(ByteSpan(msg.data() + RELAY_HEADER_SIZE, AEAD_TAG_SIZE)), hexs(ref)) << counter;
    RelayDataHeader h;
    ASSERT_TRUE(parse_relay_data_header(msg, h));
    EXPECT_EQ(h.counter, counter);
    EXPECT_EQ(h.channel, 0xabcdefu);
    EXPECT_EQ(h.receiver_index, 0x01020304u);
    EXPECT_TRUE(verify_relay_data(open, msg.data(), msg.size())) << counter;
    // The carried message is authenticated, not encrypted: untouched.
    EXPECT_EQ(hexs(ByteSpan(msg.data() + RELAY_OVERHEAD, carried.size())), hexs(carried));
  }
}

TEST(RelayData, DifferentCountersGiveDifferentTags) {
  const Key key = key_from(0x10);
  AeadContext seal = context(AeadContext::Direction::kSeal, key);
  const Bytes carried(100, 0x42);
  Bytes a = relay_message(carried), b = relay_message(carried);
  ASSERT_TRUE(seal_relay_data(seal, 9, 10, 1, a.data(), carried.size()));
  ASSERT_TRUE(seal_relay_data(seal, 9, 10, 2, b.data(), carried.size()));
  EXPECT_NE(hexs(ByteSpan(a.data() + 16, 16)), hexs(ByteSpan(b.data() + 16, 16)));
  // Same counter, same content: the same tag (the context keeps no state).
  Bytes c = relay_message(carried);
  ASSERT_TRUE(seal_relay_data(seal, 9, 10, 1, c.data(), carried.size()));
  EXPECT_EQ(hexs(a), hexs(c));
  // Only the counter in the IV, not just in the AAD: with the header's
  // counter field put back, b does not verify as counter 1's, and the tag
  // of counter 2 is EVP's with IV ...0002.
  AeadContext open = context(AeadContext::Direction::kOpen, key);
  Bytes b_as_1 = b;
  store_be64(b_as_1.data() + 8, 1);
  EXPECT_FALSE(verify_relay_data(open, b_as_1.data(), b_as_1.size()));
  EXPECT_EQ(hexs(ByteSpan(b.data() + 16, 16)), hexs(reference_tag(key, 2, ByteSpan(b.data(), 16), carried)));
}

TEST(RelayData, AnySingleByteChangeFailsVerification) {
  const Key key = key_from(0x20);
  AeadContext seal = context(AeadContext::Direction::kSeal, key);
  AeadContext open = context(AeadContext::Direction::kOpen, key);
  const Bytes carried = H("0400000011223344aabbccdd");
  Bytes msg = relay_message(carried);
  ASSERT_TRUE(seal_relay_data(seal, 0x000102, 0x11223344, 7, msg.data(), carried.size()));
  ASSERT_TRUE(verify_relay_data(open, msg.data(), msg.size()));
  for (size_t i = 0; i < msg.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      Bytes m = msg;
      m[i] ^= uint8_t(1u << bit);
      EXPECT_FALSE(verify_relay_data(open, m.data(), m.size())) << "byte " << i << " bit " << bit;
    }
  // A byte more or less of carried message.
  Bytes longer = msg;
  longer.push_back(0);
  EXPECT_FALSE(verify_relay_data(open, longer.data(), longer.size()));
  EXPECT_FALSE(verify_relay_data(open, msg.data(), msg.size() - 1));
  // The context is fine afterwards.
  EXPECT_TRUE(verify_relay_data(open, msg.data(), msg.size()));
}

TEST(RelayData, OtherKeyOrEmptyContextFails) {
  const Key key = key_from(0x30);
  Key other = key;
  other[31] ^= 1;
  AeadContext seal = context(AeadContext::Direction::kSeal, key);
  AeadContext open_other = context(AeadContext::Direction::kOpen, other);
  const Bytes carried = H("01");
  Bytes msg = relay_message(carried);
  ASSERT_TRUE(seal_relay_data(seal, 1, 2, 3, msg.data(), carried.size()));
  EXPECT_FALSE(verify_relay_data(open_other, msg.data(), msg.size()));
  AeadContext empty;
  EXPECT_FALSE(verify_relay_data(empty, msg.data(), msg.size()));
  Bytes m2 = relay_message(carried);
  EXPECT_FALSE(seal_relay_data(empty, 1, 2, 3, m2.data(), carried.size()));
  AeadContext open = context(AeadContext::Direction::kOpen, key);
  EXPECT_TRUE(verify_relay_data(open, msg.data(), msg.size()));
}

TEST(RelayData, HeaderParserRefusesMalformed) {
  const Key key = key_from(0x50);
  AeadContext seal = context(AeadContext::Direction::kSeal, key);
  const Bytes carried = H("04");
  Bytes msg = relay_message(carried);
  ASSERT_TRUE(seal_relay_data(seal, 0x000001, 5, 6, msg.data(), carried.size()));
  RelayDataHeader h;
  ASSERT_EQ(msg.size(), 33u);
  EXPECT_TRUE(parse_relay_data_header(msg, h));
  // 32 bytes or fewer: no carried message.
  for (size_t n = 0; n <= RELAY_OVERHEAD; ++n) EXPECT_FALSE(parse_relay_data_header(ByteSpan(msg.data(), n), h)) << n;
  // Channel 0.
  EXPECT_FALSE(parse_relay_data_header(with(msg, 1, {0, 0, 0}), h));
  EXPECT_TRUE(parse_relay_data_header(with(msg, 1, {0xff, 0xff, 0xff}), h));
  EXPECT_EQ(h.channel, RELAY_CHANNEL_MAX);
  EXPECT_TRUE(parse_relay_data_header(with(msg, 1, {0x80, 0, 0}), h));
  EXPECT_EQ(h.channel, 0x800000u);
  // Any other type.
  for (int t = 0; t < 256; ++t) {
    if (t != RELAY_DATA_TYPE) {
      EXPECT_FALSE(parse_relay_data_header(with(msg, 0, {uint8_t(t)}), h)) << t;
    }
  }
  // Large messages parse; the fields come from where the layout puts them.
  Bytes big = relay_message(Bytes(1500, 0x04));
  ASSERT_TRUE(seal_relay_data(seal, 0x123456, 0xdeadbeef, 0x0102030405060708, big.data(), 1500));
  ASSERT_TRUE(parse_relay_data_header(big, h));
  EXPECT_EQ(h.channel, 0x123456u);
  EXPECT_EQ(h.receiver_index, 0xdeadbeefu);
  EXPECT_EQ(h.counter, 0x0102030405060708u);
}

// ---- usage receipts ----

// The signer of tests/fuzz/make_corpus.py RECEIPT_SEED.
Ed25519Keypair receipt_key() {
  const Key seed = key_from(0x40);
  return ed25519_from_seed(seed);
}

UsageReceipt sample_receipt() {
  UsageReceipt r;
  r.relay_zid = ZID_A;
  r.requester_zid = ZID_B;
  r.target_zid = ZID_C;
  r.channel = 0x000102;
  r.opened_z = 2310167310;
  r.zeqond = 2310167323;
  r.up = 123456;
  r.down = 654321;
  r.unit = PricingUnit::kGb;
  r.price = 250;
  return r;
}

TEST(UsageReceipt, BytesMatchPythonReference) {
  // make_corpus.py usage_receipt() with these fields, signed by Python's
  // cryptography (Ed25519 is deterministic).
  const Bytes expected = H(
      "5a515531 7a65712d623039373535376637313835 7a65712d343435373133343739343535 7a65712d303132333435363738396162"
      "00000102 0000000089b25b0e 0000000089b25b1b 000000000001e240 000000000009fbf1 00 00000000000000fa"
      "2543b92ff1095511476adc8369db6ddc933665a11978dda1404ee1066ca9559d"
      "fae142c2cf740d63083ea949210166f156f8639beaa1633210f46e08a8ccd6be"
      "964558c665068d02f449ffc0fa2e8da16e63e826c77322bf8ffe12a0d305210c");
  const Ed25519Keypair key = receipt_key();
  EXPECT_EQ(hexs(key.public_key), hexs(ByteSpan(expected.data() + 97, 32)));
  const Bytes signed_receipt = sign_usage_receipt(sample_receipt(), key);
  ASSERT_EQ(signed_receipt.size(), USAGE_RECEIPT_SIZE);
  EXPECT_EQ(hexs(signed_receipt), hexs(expected));
  EXPECT_TRUE(open_usage_receipt(expected));
}

TEST(UsageReceipt, SignThenOpenRoundTripsEveryField) {
  const Ed25519Keypair key = ed25519_generate();
  UsageReceipt a = sample_receipt();
  UsageReceipt b;
  b.relay_zid = "zeq-ffffffffffff";
  b.requester_zid = "zeq-000000000000";
  b.target_zid = "zeq-a1b2c3d4e5f6";
  b.channel = 0xffffffff;  // not range-checked in a receipt
  b.opened_z = std::numeric_limits<uint64_t>::max();
  b.zeqond = 1;
  b.up = std::numeric_limits<uint64_t>::max() - 1;
  b.down = 0;
  b.unit = PricingUnit::kZeqond;
  b.price = std::numeric_limits<uint64_t>::max();
  for (const UsageReceipt& r : {a, b}) {
    const Bytes s = sign_usage_receipt(r, key);
    ASSERT_EQ(s.size(), USAGE_RECEIPT_SIZE);
    auto back = open_usage_receipt(s);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->relay_zid, r.relay_zid);
    EXPECT_EQ(back->requester_zid, r.requester_zid);
    EXPECT_EQ(back->target_zid, r.target_zid);
    EXPECT_EQ(back->channel, r.channel);
    EXPECT_EQ(back->opened_z, r.opened_z);
    EXPECT_EQ(back->zeqond, r.zeqond);
    EXPECT_EQ(back->up, r.up);
    EXPECT_EQ(back->down, r.down);
    EXPECT_EQ(back->unit, r.unit);
    EXPECT_EQ(back->price, r.price);
    EXPECT_EQ(back->signing_public, key.public_key);  // the signer's, whatever r.signing_public said
    EXPECT_EQ(sign_usage_receipt(*back, key), s);
    // Carried in its control message.
    const Bytes wire = padded(encode_relay_receipt(s), 9);
    auto inner = parse_relay_receipt(wire);
    ASSERT_TRUE(inner);
    EXPECT_TRUE(open_usage_receipt(*inner));
  }
}

TEST(UsageReceipt, AnyAlteredByteFails) {
  const Bytes s = sign_usage_receipt(sample_receipt(), receipt_key());
  ASSERT_TRUE(open_usage_receipt(s));
  for (size_t i = 0; i < s.size(); ++i)
    for (uint8_t x : {0x01, 0x80}) {
      Bytes m = s;
      m[i] ^= x;
      EXPECT_FALSE(open_usage_receipt(m)) << "byte " << i << " ^ " << int(x);
    }
}

TEST(UsageReceipt, WrongSizeFails) {
  const Bytes s = sign_usage_receipt(sample_receipt(), receipt_key());
  for (size_t n : {size_t(0), size_t(4), size_t(129), USAGE_RECEIPT_SIZE - 1})
    EXPECT_FALSE(open_usage_receipt(ByteSpan(s.data(), n))) << n;
  EXPECT_FALSE(open_usage_receipt(padded(s, 1)));
  Bytes longer = s;
  longer.push_back(0x42);
  EXPECT_FALSE(open_usage_receipt(longer));
}

TEST(UsageReceipt, InvalidZidOrUnitFailsThoughSigned) {
  // Signed by the code itself, so the signature holds: what fails is the
  // field check.
  const Ed25519Keypair key = receipt_key();
  const std::vector<std::string> bad = {"zeq-0123456789AB", "ZEQ-0123456789ab", "zeq-0123456789a!", "zeq-0123",
                                        std::string(16, '\0')};
  for (const std::string& z : bad) {
    for (int field = 0; field < 3; ++field) {
      UsageReceipt r = sample_receipt();
      (field == 0 ? r.relay_zid : field == 1 ? r.requester_zid : r.target_zid) = z;
      EXPECT_FALSE(open_usage_receipt(sign_usage_receipt(r, key))) << "field " << field << " " << to_hex(as_bytes(z));
    }
  }
  UsageReceipt r = sample_receipt();
  r.unit = PricingUnit(2);
  EXPECT_FALSE(open_usage_receipt(sign_usage_receipt(r, key)));
  // Signature by another key than the one it carries.
  Bytes s = sign_usage_receipt(sample_receipt(), key);
  const Ed25519Keypair other = ed25519_generate();
  std::copy(other.public_key.begin(), other.public_key.end(), s.begin() + 97);
  EXPECT_FALSE(open_usage_receipt(s));
}

// ---- the relay's token bucket ----

TEST(TokenBucket, DepthRespectedAtStart) {
  TokenBucket b(1000, 500, 1'000'000);
  EXPECT_FALSE(b.take(501, 1'000'000));  // more than the depth, never
  EXPECT_TRUE(b.take(500, 1'000'000));   // a refused take costs nothing
  EXPECT_FALSE(b.take(1, 1'000'000));
  TokenBucket c(1000, 500, 0);
  EXPECT_TRUE(c.take(200, 0));
  EXPECT_TRUE(c.take(300, 0));
  EXPECT_FALSE(c.take(1, 0));
  EXPECT_TRUE(c.take(0, 0));
}

TEST(TokenBucket, RefillsAtRate) {
  TokenBucket b(1000, 500, 0);  // 1000 B/s: 1 byte per ms
  ASSERT_TRUE(b.take(500, 0));
  EXPECT_FALSE(b.take(1, 0));
  EXPECT_TRUE(b.take(1, 1'000));  // 1 ms: one byte
  EXPECT_FALSE(b.take(1, 1'000));
  EXPECT_TRUE(b.take(100, 101'000));  // 100 ms more: 100 bytes
  EXPECT_FALSE(b.take(1, 101'000));
  EXPECT_FALSE(b.take(251, 351'000));  // 250 ms: 250 bytes, not 251
  EXPECT_TRUE(b.take(250, 351'000));
  // A long idle spell refills up to the depth only.
  EXPECT_FALSE(b.take(501, 60'000'000));
  EXPECT_TRUE(b.take(500, 60'000'000));
  EXPECT_FALSE(b.take(1, 60'000'000));
  // Time going backwards adds nothing.
  EXPECT_FALSE(b.take(1, 30'000'000));
}

TEST(TokenBucket, RefusesWhenEmptyUntilRefilled) {
  TokenBucket b(12'500'000, 1'048'576, 5);  // the defaults of relay.limits
  int taken = 0;
  while (b.take(1500, 5)) ++taken;
  EXPECT_EQ(taken, 1'048'576 / 1500);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(b.take(1500, 5));
  // 76 bytes left; 12.5 bytes per µs: 1500 after 114 µs, not after 113.
  EXPECT_FALSE(b.take(1500, 5 + 113));
  EXPECT_TRUE(b.take(1500, 5 + 114));
  EXPECT_FALSE(b.take(1, 5 + 114));
}

// take() once moved its clock to now on every call but added only whole
// bytes, so calls closer together than 10^6 / rate µs refilled nothing,
// ever (here 0 of 1000 bytes); now the clock moves only by the time that
// became bytes.
TEST(TokenBucket, RefillNotLostToFrequentCalls) {
  // 1000 B/s is one byte per ms. Asked every 100 µs for a second, the
  // bucket has had 1000 bytes' worth of time: it must give at least most
  // of them, however the refill rounds.
  TokenBucket b(1000, 500, 0);
  ASSERT_TRUE(b.take(500, 0));
  int taken = 0;
  for (int64_t t = 100; t <= 1'000'000; t += 100)
    if (b.take(1, t)) ++taken;
  EXPECT_GE(taken, 900);
}

// After a jump of any size the bucket is full, never more, never negative.
void expect_full_after_jumps(uint64_t rate, uint64_t depth) {
  for (int64_t jump : {int64_t(10'000'000), int64_t(100'000'000'000'000), std::numeric_limits<int64_t>::max() - 1}) {
    SCOPED_TRACE("rate " + std::to_string(rate) + " depth " + std::to_string(depth) + " jump " + std::to_string(jump));
    TokenBucket b(rate, depth, 0);
    ASSERT_TRUE(b.take(depth, 0));
    EXPECT_FALSE(b.take(1, 0));
    EXPECT_FALSE(b.take(depth + 1, jump));
    EXPECT_TRUE(b.take(depth, jump));
    EXPECT_FALSE(b.take(1, jump));
    // And it refills at its rate after it: a second later, min(rate, depth).
    if (jump < std::numeric_limits<int64_t>::max() - 1'000'000) {
      EXPECT_FALSE(b.take(std::min(rate, depth) + 1, jump + 1'000'000));
      EXPECT_TRUE(b.take(std::min(rate, depth), jump + 1'000'000));
    }
  }
}

TEST(TokenBucket, HugeTimeJumpDoesNotOverflow) {
  // A jump of years (up to INT64_MAX µs) at the defaults, the smallest
  // limits, and the largest rate and depth the configuration allows
  // (config.cpp: rates up to 10^12 B/s, where 10 s of microseconds times
  // the rate no longer fits 64 bits; depth up to 2^32).
  expect_full_after_jumps(12'500'000, 1'048'576);
  expect_full_after_jumps(1, 1);
  expect_full_after_jumps(900'000'000'000ull, uint64_t(1) << 32);
  expect_full_after_jumps(1'000'000'000'000ull, uint64_t(1) << 32);
}

}  // namespace
}  // namespace zeq
