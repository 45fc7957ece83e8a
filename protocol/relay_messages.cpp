#include "protocol/relay_messages.hpp"

#include <algorithm>
#include <cstring>

#include "identity/zid.hpp"
#include "protocol/wire.hpp"

namespace zeq {

namespace {

constexpr size_t ZID_SIZE = 16;
constexpr char RECEIPT_MAGIC[] = "ZQU1";
constexpr char RECEIPT_DOMAIN[] = "zeqvpn/receipt/v1";

void relay_nonce(uint64_t counter, uint8_t* iv) {
  store_be32(iv, 0);
  store_be64(iv + 4, counter);
}

// 0x01 || type || body
Bytes control(uint8_t type, size_t body_reserve) {
  Bytes b;
  b.reserve(2 + body_reserve);
  b.push_back(wire::PLAINTEXT_CONTROL);
  b.push_back(type);
  return b;
}

void append_zid(Bytes& b, const std::string& zid) {
  uint8_t z[ZID_SIZE] = {};
  std::memcpy(z, zid.data(), std::min(zid.size(), ZID_SIZE));
  b.insert(b.end(), z, z + ZID_SIZE);
}

// A body reader over a plaintext of the given control type; every read is
// bounds-checked, and done() accepts only zero padding after the body.
class Reader {
 public:
  Reader(ByteSpan p, uint8_t type) : p_(p) {
    ok_ = p.size() >= 2 && p[0] == wire::PLAINTEXT_CONTROL && p[1] == type;
    pos_ = 2;
  }
  bool ok() const { return ok_; }
  bool need(size_t n) {
    if (!ok_ || p_.size() - pos_ < n) ok_ = false;
    return ok_;
  }
  uint8_t u8() { return need(1) ? p_[pos_++] : 0; }
  uint32_t u32() {
    if (!need(4)) return 0;
    uint32_t v = load_be32(p_.data() + pos_);
    pos_ += 4;
    return v;
  }
  uint64_t u64() {
    if (!need(8)) return 0;
    uint64_t v = load_be64(p_.data() + pos_);
    pos_ += 8;
    return v;
  }
  std::string zid() {
    if (!need(ZID_SIZE)) return {};
    std::string z(reinterpret_cast<const char*>(p_.data() + pos_), ZID_SIZE);
    pos_ += ZID_SIZE;
    if (!is_valid_zid(z)) ok_ = false;
    return z;
  }
  std::string text(size_t n) {
    if (!need(n)) return {};
    std::string s(reinterpret_cast<const char*>(p_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  uint32_t channel() {
    uint32_t c = u32();
    if (c == 0 || c > RELAY_CHANNEL_MAX) ok_ = false;
    return c;
  }
  RelayReason reason() {
    uint8_t r = u8();
    if (r == 0 || r > RELAY_REASON_MAX) ok_ = false;
    return RelayReason(r);
  }
  PricingUnit unit() {
    uint8_t u = u8();
    if (u > uint8_t(PricingUnit::kZeqond)) ok_ = false;
    return PricingUnit(u);
  }
  bool done() const {
    return ok_ && std::all_of(p_.begin() + long(pos_), p_.end(), [](uint8_t b) { return b == 0; });
  }

 private:
  ByteSpan p_;
  size_t pos_ = 0;
  bool ok_ = false;
};

template <class T>
std::optional<T> done_or_none(const Reader& r, T value) {
  if (!r.done()) return std::nullopt;
  return value;
}

}  // namespace

bool seal_relay_data(AeadContext& hop_key, uint32_t channel, uint32_t receiver_index, uint64_t counter, uint8_t* msg,
                     size_t carried_len) {
  msg[0] = RELAY_DATA_TYPE;
  msg[1] = uint8_t(channel >> 16);
  msg[2] = uint8_t(channel >> 8);
  msg[3] = uint8_t(channel);
  store_be32(msg + 4, receiver_index);
  store_be64(msg + 8, counter);
  uint8_t iv[AEAD_IV_SIZE];
  relay_nonce(counter, iv);
  return hop_key.tag_only(iv, ByteSpan(msg, RELAY_HEADER_SIZE), ByteSpan(msg + RELAY_OVERHEAD, carried_len),
                          msg + RELAY_HEADER_SIZE);
}

bool parse_relay_data_header(ByteSpan msg, RelayDataHeader& out) {
  if (msg.size() <= RELAY_OVERHEAD || msg[0] != RELAY_DATA_TYPE) return false;
  out.channel = (uint32_t(msg[1]) << 16) | (uint32_t(msg[2]) << 8) | msg[3];
  if (out.channel == 0) return false;
  out.receiver_index = load_be32(msg.data() + 4);
  out.counter = load_be64(msg.data() + 8);
  return true;
}

bool verify_relay_data(AeadContext& hop_key, const uint8_t* msg, size_t len) {
  uint8_t iv[AEAD_IV_SIZE];
  relay_nonce(load_be64(msg + 8), iv);
  return hop_key.verify_tag(iv, ByteSpan(msg, RELAY_HEADER_SIZE), ByteSpan(msg + RELAY_OVERHEAD, len - RELAY_OVERHEAD),
                            msg + RELAY_HEADER_SIZE);
}

const char* relay_reason_name(RelayReason r) {
  switch (r) {
    case RelayReason::kNone: return "none";
    case RelayReason::kTargetUnknown: return "target_unknown";
    case RelayReason::kDeclined: return "declined";
    case RelayReason::kPairLimit: return "pair_limit";
    case RelayReason::kNotRelay: return "not_relay";
    case RelayReason::kClosed: return "closed";
    case RelayReason::kEndGone: return "end_gone";
    case RelayReason::kTimeout: return "timeout";
    case RelayReason::kSelf: return "self";
    case RelayReason::kBusy: return "busy";
  }
  return "unknown";
}

bool valid_region(std::string_view region) {
  if (region.size() > RELAY_REGION_MAX) return false;
  return std::all_of(region.begin(), region.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

Bytes encode_relay_open(const RelayOpen& m) {
  Bytes b = control(CONTROL_RELAY_OPEN, 20);
  append_be32(b, m.request_id);
  append_zid(b, m.target_zid);
  return b;
}

Bytes encode_relay_offer(const RelayOffer& m) {
  Bytes b = control(CONTROL_RELAY_OFFER, 20);
  append_be32(b, m.channel);
  append_zid(b, m.requester_zid);
  return b;
}

Bytes encode_relay_accept(uint32_t channel) {
  Bytes b = control(CONTROL_RELAY_ACCEPT, 4);
  append_be32(b, channel);
  return b;
}

Bytes encode_relay_decline(uint32_t channel, RelayReason reason) {
  Bytes b = control(CONTROL_RELAY_DECLINE, 5);
  append_be32(b, channel);
  b.push_back(uint8_t(reason));
  return b;
}

Bytes encode_relay_opened(const RelayOpened& m) {
  Bytes b = control(CONTROL_RELAY_OPENED, 17);
  append_be32(b, m.request_id);
  append_be32(b, m.channel);
  b.push_back(uint8_t(m.unit));
  append_be64(b, m.price);
  return b;
}

Bytes encode_relay_refused(const RelayRefused& m) {
  Bytes b = control(CONTROL_RELAY_REFUSED, 5);
  append_be32(b, m.request_id);
  b.push_back(uint8_t(m.reason));
  return b;
}

Bytes encode_relay_close(const RelayClose& m) {
  Bytes b = control(CONTROL_RELAY_CLOSE, 5);
  append_be32(b, m.channel);
  b.push_back(uint8_t(m.reason));
  return b;
}

Bytes encode_relay_ping(const RelayPing& m) {
  Bytes b = control(CONTROL_RELAY_PING, 8);
  append_be64(b, m.nonce);
  return b;
}

Bytes encode_relay_pong(const RelayPong& m) {
  Bytes b = control(CONTROL_RELAY_PONG, 18 + m.region.size());
  append_be64(b, m.nonce);
  b.push_back(uint8_t(m.unit));
  append_be64(b, m.price);
  b.push_back(uint8_t(m.region.size()));
  b.insert(b.end(), m.region.begin(), m.region.end());
  return b;
}

std::optional<RelayOpen> parse_relay_open(ByteSpan p) {
  Reader r(p, CONTROL_RELAY_OPEN);
  RelayOpen m;
  m.request_id = r.u32();
  m.target_zid = r.zid();
  return done_or_none(r, m);
}

std::optional<RelayOffer> parse_relay_offer(ByteSpan p) {
  Reader r(p, CONTROL_RELAY_OFFER);
  RelayOffer m;
  m.channel = r.channel();
  m.requester_zid = r.zid();
  return done_or_none(r, m);
}

std::optional<RelayAnswer> parse_relay_answer(ByteSpan p) {
  if (p.size() >= 2 && p[1] == CONTROL_RELAY_ACCEPT) {
    Reader r(p, CONTROL_RELAY_ACCEPT);
    RelayAnswer m;
    m.channel = r.channel();
    return done_or_none(r, m);
  }
  Reader r(p, CONTROL_RELAY_DECLINE);
  RelayAnswer m;
  m.channel = r.channel();
  m.reason = r.reason();
  return done_or_none(r, m);
}

std::optional<RelayOpened> parse_relay_opened(ByteSpan p) {
  Reader r(p, CONTROL_RELAY_OPENED);
  RelayOpened m;
  m.request_id = r.u32();
  m.channel = r.channel();
  m.unit = r.unit();
  m.price = r.u64();
  return done_or_none(r, m);
}

std::optional<RelayRefused> parse_relay_refused(ByteSpan p) {
  Reader r(p, CONTROL_RELAY_REFUSED);
  RelayRefused m;
  m.request_id = r.u32();
  m.reason = r.reason();
  return done_or_none(r, m);
}

std::optional<RelayClose> parse_relay_close(ByteSpan p) {
  Reader r(p, CONTROL_RELAY_CLOSE);
  RelayClose m;
  m.channel = r.channel();
  m.reason = r.reason();
  return done_or_none(r, m);
}

std::optional<RelayPing> parse_relay_ping(ByteSpan p) {
  Reader r(p, CONTROL_RELAY_PING);
  RelayPing m;
  m.nonce = r.u64();
  return done_or_none(r, m);
}

std::optional<RelayPong> parse_relay_pong(ByteSpan p) {
  Reader r(p, CONTROL_RELAY_PONG);
  RelayPong m;
  m.nonce = r.u64();
  m.unit = r.unit();
  m.price = r.u64();
  const uint8_t n = r.u8();
  if (n > RELAY_REGION_MAX) return std::nullopt;
  m.region = r.text(n);
  if (!r.ok() || !valid_region(m.region)) return std::nullopt;
  return done_or_none(r, m);
}

Bytes sign_usage_receipt(const UsageReceipt& u, const Ed25519Keypair& key) {
  Bytes b;
  b.reserve(USAGE_RECEIPT_SIZE);
  b.insert(b.end(), RECEIPT_MAGIC, RECEIPT_MAGIC + 4);
  append_zid(b, u.relay_zid);
  append_zid(b, u.requester_zid);
  append_zid(b, u.target_zid);
  append_be32(b, u.channel);
  append_be64(b, u.opened_z);
  append_be64(b, u.zeqond);
  append_be64(b, u.up);
  append_be64(b, u.down);
  b.push_back(uint8_t(u.unit));
  append_be64(b, u.price);
  b.insert(b.end(), key.public_key.begin(), key.public_key.end());
  Ed25519Signature sig = ed25519_sign(key, {as_bytes(RECEIPT_DOMAIN), ByteSpan(b)});
  b.insert(b.end(), sig.begin(), sig.end());
  return b;
}

std::optional<UsageReceipt> open_usage_receipt(ByteSpan in) {
  if (in.size() != USAGE_RECEIPT_SIZE || std::memcmp(in.data(), RECEIPT_MAGIC, 4) != 0) return std::nullopt;
  const uint8_t* p = in.data() + 4;
  auto zid = [&]() {
    std::string z(reinterpret_cast<const char*>(p), ZID_SIZE);
    p += ZID_SIZE;
    return z;
  };
  auto u64 = [&]() {
    uint64_t v = load_be64(p);
    p += 8;
    return v;
  };
  UsageReceipt u;
  u.relay_zid = zid();
  u.requester_zid = zid();
  u.target_zid = zid();
  if (!is_valid_zid(u.relay_zid) || !is_valid_zid(u.requester_zid) || !is_valid_zid(u.target_zid)) return std::nullopt;
  u.channel = load_be32(p);
  p += 4;
  u.opened_z = u64();
  u.zeqond = u64();
  u.up = u64();
  u.down = u64();
  if (*p > uint8_t(PricingUnit::kZeqond)) return std::nullopt;
  u.unit = PricingUnit(*p++);
  u.price = u64();
  std::memcpy(u.signing_public.data(), p, 32);
  p += 32;
  const size_t signed_len = size_t(p - in.data());
  if (!ed25519_verify(std::span<const uint8_t, 32>(u.signing_public), std::span<const uint8_t, 64>(p, 64),
                      {as_bytes(RECEIPT_DOMAIN), in.first(signed_len)}))
    return std::nullopt;
  return u;
}

Bytes encode_relay_receipt(ByteSpan signed_receipt) {
  Bytes b = control(CONTROL_RELAY_RECEIPT, signed_receipt.size());
  b.insert(b.end(), signed_receipt.begin(), signed_receipt.end());
  return b;
}

std::optional<ByteSpan> parse_relay_receipt(ByteSpan p) {
  if (p.size() < 2 + USAGE_RECEIPT_SIZE || p[0] != wire::PLAINTEXT_CONTROL || p[1] != CONTROL_RELAY_RECEIPT)
    return std::nullopt;
  if (!std::all_of(p.begin() + long(2 + USAGE_RECEIPT_SIZE), p.end(), [](uint8_t b) { return b == 0; }))
    return std::nullopt;
  return p.subspan(2, USAGE_RECEIPT_SIZE);
}

}  // namespace zeq
