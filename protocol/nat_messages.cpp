#include "protocol/nat_messages.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "protocol/wire.hpp"

namespace zeq {

const char* nat_type_name(NatType t) {
  switch (t) {
    case NatType::kNone: return "none";
    case NatType::kEndpointIndependent: return "endpoint-independent";
    case NatType::kSymmetric: return "symmetric";
    case NatType::kUnknown: break;
  }
  return "unknown";
}

namespace {

Bytes control(uint8_t type) { return Bytes{wire::PLAINTEXT_CONTROL, type}; }

bool is_v4(const UdpEndpoint& ep) { return IN6_IS_ADDR_V4MAPPED(&ep.sa.sin6_addr); }

// family(1) = 4 or 6 || address (4 or 16) || port(2)
void append_endpoint(Bytes& b, const UdpEndpoint& ep) {
  const auto* a = reinterpret_cast<const uint8_t*>(&ep.sa.sin6_addr);
  if (is_v4(ep)) {
    b.push_back(4);
    b.insert(b.end(), a + 12, a + 16);
  } else {
    b.push_back(6);
    b.insert(b.end(), a, a + 16);
  }
  const uint16_t port = ntohs(ep.sa.sin6_port);
  b.push_back(uint8_t(port >> 8));
  b.push_back(uint8_t(port));
}

class Reader {
 public:
  Reader(ByteSpan p, uint8_t type) : p_(p) { ok_ = p.size() >= 2 && p[0] == wire::PLAINTEXT_CONTROL && p[1] == type; }
  bool ok() const { return ok_; }
  bool need(size_t n) {
    if (!ok_ || p_.size() - pos_ < n) ok_ = false;
    return ok_;
  }
  uint8_t u8() { return need(1) ? p_[pos_++] : 0; }
  uint64_t u64() {
    if (!need(8)) return 0;
    uint64_t v = load_be64(p_.data() + pos_);
    pos_ += 8;
    return v;
  }
  UdpEndpoint endpoint() {
    UdpEndpoint ep;
    const uint8_t family = u8();
    if (family != 4 && family != 6) {
      ok_ = false;
      return ep;
    }
    const size_t n = family == 4 ? 4 : 16;
    if (!need(n + 2)) return ep;
    ep.sa.sin6_family = AF_INET6;
    auto* a = reinterpret_cast<uint8_t*>(&ep.sa.sin6_addr);
    if (family == 4) {
      a[10] = a[11] = 0xff;
      std::memcpy(a + 12, p_.data() + pos_, 4);
    } else {
      std::memcpy(a, p_.data() + pos_, 16);
      // An IPv4 address only as family 4: one encoding per endpoint.
      if (IN6_IS_ADDR_V4MAPPED(&ep.sa.sin6_addr)) ok_ = false;
    }
    pos_ += n;
    ep.sa.sin6_port = htons(uint16_t(p_[pos_] << 8 | p_[pos_ + 1]));
    pos_ += 2;
    if (!nat_endpoint_usable(ep)) ok_ = false;
    return ep;
  }
  // Only zero padding after the body.
  bool done() const {
    return ok_ && std::all_of(p_.begin() + long(pos_), p_.end(), [](uint8_t b) { return b == 0; });
  }

 private:
  ByteSpan p_;
  size_t pos_ = 2;
  bool ok_ = false;
};

}  // namespace

bool nat_endpoint_usable(const UdpEndpoint& ep) {
  if (ep.sa.sin6_family != AF_INET6 || ep.sa.sin6_port == 0) return false;
  const auto* a = reinterpret_cast<const uint8_t*>(&ep.sa.sin6_addr);
  if (is_v4(ep)) {
    const uint8_t* v4 = a + 12;
    if (v4[0] == 0 || v4[0] == 127 || v4[0] >= 224) return false;  // unspecified/this net, loopback, multicast
    return true;
  }
  if (IN6_IS_ADDR_UNSPECIFIED(&ep.sa.sin6_addr) || IN6_IS_ADDR_LOOPBACK(&ep.sa.sin6_addr) ||
      IN6_IS_ADDR_MULTICAST(&ep.sa.sin6_addr) || IN6_IS_ADDR_LINKLOCAL(&ep.sa.sin6_addr))
    return false;
  return true;
}

Bytes encode_nat_observe(const NatObserve& m) {
  Bytes b = control(CONTROL_NAT_OBSERVE);
  append_be64(b, m.nonce);
  return b;
}

Bytes encode_nat_observed(const NatObserved& m) {
  Bytes b = control(CONTROL_NAT_OBSERVED);
  append_be64(b, m.nonce);
  append_endpoint(b, m.seen);
  return b;
}

Bytes encode_nat_candidates(const NatCandidates& m) {
  Bytes b = control(CONTROL_NAT_CANDIDATES);
  append_be64(b, m.token);
  b.push_back(m.answer ? NAT_CANDIDATES_ANSWER : 0);
  b.push_back(uint8_t(m.nat));
  b.push_back(uint8_t(m.candidates.size()));
  for (const auto& ep : m.candidates) append_endpoint(b, ep);
  return b;
}

Bytes encode_nat_probe(const NatProbe& m) {
  Bytes b = control(CONTROL_NAT_PROBE);
  append_be64(b, m.token);
  append_be64(b, m.nonce);
  return b;
}

Bytes encode_nat_probe_reply(const NatProbeReply& m) {
  Bytes b = control(CONTROL_NAT_PROBE_REPLY);
  append_be64(b, m.nonce);
  append_endpoint(b, m.seen);
  return b;
}

std::optional<NatObserve> parse_nat_observe(ByteSpan p) {
  Reader r(p, CONTROL_NAT_OBSERVE);
  NatObserve m{r.u64()};
  if (!r.done()) return std::nullopt;
  return m;
}

std::optional<NatObserved> parse_nat_observed(ByteSpan p) {
  Reader r(p, CONTROL_NAT_OBSERVED);
  NatObserved m;
  m.nonce = r.u64();
  m.seen = r.endpoint();
  if (!r.done()) return std::nullopt;
  return m;
}

std::optional<NatCandidates> parse_nat_candidates(ByteSpan p) {
  Reader r(p, CONTROL_NAT_CANDIDATES);
  NatCandidates m;
  m.token = r.u64();
  const uint8_t flags = r.u8();
  const uint8_t nat = r.u8();
  const uint8_t n = r.u8();
  if (!r.ok() || (flags & ~NAT_CANDIDATES_ANSWER) || nat > NAT_TYPE_MAX || n > NAT_MAX_CANDIDATES) return std::nullopt;
  m.answer = flags & NAT_CANDIDATES_ANSWER;
  m.nat = NatType(nat);
  for (uint8_t i = 0; i < n; ++i) {
    UdpEndpoint ep = r.endpoint();
    if (!r.ok()) return std::nullopt;
    if (std::find(m.candidates.begin(), m.candidates.end(), ep) != m.candidates.end()) return std::nullopt;
    m.candidates.push_back(ep);
  }
  if (!r.done()) return std::nullopt;
  return m;
}

std::optional<NatProbe> parse_nat_probe(ByteSpan p) {
  Reader r(p, CONTROL_NAT_PROBE);
  NatProbe m;
  m.token = r.u64();
  m.nonce = r.u64();
  if (!r.done()) return std::nullopt;
  return m;
}

std::optional<NatProbeReply> parse_nat_probe_reply(ByteSpan p) {
  Reader r(p, CONTROL_NAT_PROBE_REPLY);
  NatProbeReply m;
  m.nonce = r.u64();
  m.seen = r.endpoint();
  if (!r.done()) return std::nullopt;
  return m;
}

}  // namespace zeq
