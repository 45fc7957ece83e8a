// Fuzz target: the relay wire code (protocol/relay_messages.hpp) as a relay
// or a client reads what a peer sent: the input is handed whole to every
// relay control parser (0x10..0x19), to parse_relay_data_header and
// verify_relay_data under a fixed hop key (fixed_keys.hpp KEY_I2R_HEX, the
// key the seed RelayData messages are tagged with), and to
// open_usage_receipt. Properties, trapped when broken:
//  - what a parser accepts is canonical: encoding what it read gives the
//    input back, followed only by zero padding; at most one parser takes
//    an input, and the fields are in range (channel, reason, unit, region);
//  - a RelayData header is read from where the layout puts it; a message
//    that verifies is sealed again to the same bytes, and any message
//    sealed again under the key verifies, and not under another counter;
//  - a receipt that opens has valid ZIDs and unit, and its bytes before
//    the signing key are what sign_usage_receipt writes for its fields
//    (all of them, signature included, when it carries the key of
//    make_corpus.py RECEIPT_SEED, Ed25519 being deterministic).
// The seed corpus (corpus/relay_messages/) is make_corpus.py relay_seeds().
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/bytes.hpp"
#include "crypto/aead.hpp"
#include "crypto/ed25519.hpp"
#include "fixed_keys.hpp"
#include "identity/zid.hpp"
#include "protocol/relay_messages.hpp"

namespace {

using zeq::Bytes;
using zeq::ByteSpan;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// `again` is the start of `in`, and the rest of `in` is zeros.
void check_canonical(const Bytes& again, ByteSpan in) {
  check(again.size() <= in.size() && std::equal(again.begin(), again.end(), in.begin()));
  check(std::all_of(in.begin() + long(again.size()), in.end(), [](uint8_t b) { return b == 0; }));
}

bool channel_ok(uint32_t c) { return c >= 1 && c <= zeq::RELAY_CHANNEL_MAX; }
bool reason_ok(zeq::RelayReason r) { return uint8_t(r) >= 1 && uint8_t(r) <= zeq::RELAY_REASON_MAX; }
bool unit_ok(zeq::PricingUnit u) { return u == zeq::PricingUnit::kGb || u == zeq::PricingUnit::kZeqond; }

struct Hop {
  zeq::AeadContext seal, open, open_other;
};

Hop& hop() {
  static Hop h = [] {
    const Bytes key = zeq::fuzz::hex_bytes(zeq::fuzz::KEY_I2R_HEX);
    std::array<uint8_t, 32> k{}, other{};
    std::copy(key.begin(), key.end(), k.begin());
    other = k;
    other[0] ^= 0x01;
    Hop hop;
    hop.seal = zeq::AeadContext::create(zeq::AeadContext::Direction::kSeal, k).value();
    hop.open = zeq::AeadContext::create(zeq::AeadContext::Direction::kOpen, k).value();
    hop.open_other = zeq::AeadContext::create(zeq::AeadContext::Direction::kOpen, other).value();
    return hop;
  }();
  return h;
}

// make_corpus.py RECEIPT_SEED: 40 41 .. 5f.
const zeq::Ed25519Keypair& receipt_key() {
  static const zeq::Ed25519Keypair key = [] {
    std::array<uint8_t, 32> seed{};
    for (size_t i = 0; i < seed.size(); ++i) seed[i] = uint8_t(0x40 + i);
    return zeq::ed25519_from_seed(seed);
  }();
  return key;
}

void control_messages(ByteSpan in) {
  int accepted = 0;
  if (auto m = zeq::parse_relay_open(in)) {
    ++accepted;
    check(zeq::is_valid_zid(m->target_zid));
    check_canonical(zeq::encode_relay_open(*m), in);
  }
  if (auto m = zeq::parse_relay_offer(in)) {
    ++accepted;
    check(channel_ok(m->channel) && zeq::is_valid_zid(m->requester_zid));
    check_canonical(zeq::encode_relay_offer(*m), in);
  }
  if (auto m = zeq::parse_relay_answer(in)) {
    ++accepted;
    check(channel_ok(m->channel));
    check(in.size() >= 2);
    if (in[1] == zeq::CONTROL_RELAY_ACCEPT) {
      check(m->reason == zeq::RelayReason::kNone);
      check_canonical(zeq::encode_relay_accept(m->channel), in);
    } else {
      check(reason_ok(m->reason));
      check_canonical(zeq::encode_relay_decline(m->channel, m->reason), in);
    }
    (void)zeq::relay_reason_name(m->reason);
  }
  if (auto m = zeq::parse_relay_opened(in)) {
    ++accepted;
    check(channel_ok(m->channel) && unit_ok(m->unit));
    check_canonical(zeq::encode_relay_opened(*m), in);
  }
  if (auto m = zeq::parse_relay_refused(in)) {
    ++accepted;
    check(reason_ok(m->reason));
    check_canonical(zeq::encode_relay_refused(*m), in);
  }
  if (auto m = zeq::parse_relay_close(in)) {
    ++accepted;
    check(channel_ok(m->channel) && reason_ok(m->reason));
    check_canonical(zeq::encode_relay_close(*m), in);
  }
  if (auto m = zeq::parse_relay_ping(in)) {
    ++accepted;
    check_canonical(zeq::encode_relay_ping(*m), in);
  }
  if (auto m = zeq::parse_relay_pong(in)) {
    ++accepted;
    check(unit_ok(m->unit) && m->region.size() <= zeq::RELAY_REGION_MAX && zeq::valid_region(m->region));
    check_canonical(zeq::encode_relay_pong(*m), in);
  }
  if (auto r = zeq::parse_relay_receipt(in)) {
    ++accepted;
    check(r->size() == zeq::USAGE_RECEIPT_SIZE && r->data() == in.data() + 2);
    check_canonical(zeq::encode_relay_receipt(*r), in);
    (void)zeq::open_usage_receipt(*r);
  }
  check(accepted <= 1);
  if (accepted == 1) check(in.size() >= 2 && in[0] == 0x01 && zeq::is_relay_control(in[1]));
}

void relay_data(ByteSpan in) {
  zeq::RelayDataHeader h;
  if (!zeq::parse_relay_data_header(in, h)) return;
  check(in.size() > zeq::RELAY_OVERHEAD && in[0] == zeq::RELAY_DATA_TYPE && channel_ok(h.channel));
  check(h.channel == ((uint32_t(in[1]) << 16) | (uint32_t(in[2]) << 8) | in[3]));
  check(h.receiver_index == zeq::load_be32(in.data() + 4) && h.counter == zeq::load_be64(in.data() + 8));
  Hop& k = hop();
  const bool verified = zeq::verify_relay_data(k.open, in.data(), in.size());
  // Sealed again under the key with the header's fields: the same bytes if
  // the input verified, and a message that verifies in any case.
  Bytes again(in.begin(), in.end());
  check(zeq::seal_relay_data(k.seal, h.channel, h.receiver_index, h.counter, again.data(),
                             in.size() - zeq::RELAY_OVERHEAD));
  check(std::equal(again.begin() + long(zeq::RELAY_OVERHEAD), again.end(), in.begin() + long(zeq::RELAY_OVERHEAD)));
  check(std::equal(again.begin(), again.begin() + long(zeq::RELAY_HEADER_SIZE), in.begin()));
  check(verified == std::equal(again.begin(), again.end(), in.begin()));
  check(zeq::verify_relay_data(k.open, again.data(), again.size()));
  check(!zeq::verify_relay_data(k.open_other, again.data(), again.size()));
  // Another counter in the header: the tag no longer holds.
  zeq::store_be64(again.data() + 8, h.counter + 1);
  check(!zeq::verify_relay_data(k.open, again.data(), again.size()));
}

void usage_receipt(ByteSpan in) {
  auto r = zeq::open_usage_receipt(in);
  if (!r) return;
  check(in.size() == zeq::USAGE_RECEIPT_SIZE);
  check(zeq::is_valid_zid(r->relay_zid) && zeq::is_valid_zid(r->requester_zid) && zeq::is_valid_zid(r->target_zid));
  check(unit_ok(r->unit));
  check(std::equal(r->signing_public.begin(), r->signing_public.end(), in.begin() + 97));
  const zeq::Ed25519Keypair& key = receipt_key();
  const Bytes again = zeq::sign_usage_receipt(*r, key);
  check(again.size() == zeq::USAGE_RECEIPT_SIZE);
  check(std::equal(again.begin(), again.begin() + 97, in.begin()));
  if (r->signing_public == key.public_key) check(std::equal(again.begin(), again.end(), in.begin()));
  check(zeq::open_usage_receipt(again).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan in(data, size);
  control_messages(in);
  relay_data(in);
  usage_receipt(in);
  return 0;
}
