// ICMP "fragmentation needed" / ICMPv6 "packet too big" answers
// (protocol/icmp_too_big.hpp): which packets get one, and the answer's every
// field, its length, its quote and its checksums, the checksums against a
// reference computed here from RFC 1071 and RFC 8200's pseudo-header.
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <vector>

#include "protocol/icmp_too_big.hpp"

namespace zeq {
namespace {

using Bytes = std::vector<uint8_t>;

uint16_t get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t* p) { return uint32_t(get16(p)) << 16 | get16(p + 2); }

// RFC 1071, written out differently from the code under test: 64-bit
// accumulator over byte pairs, carries folded once at the end.
uint16_t reference_checksum(const Bytes& data) {
  uint64_t sum = 0;
  for (size_t i = 0; i < data.size(); i += 2)
    sum += (uint64_t(data[i]) << 8) + (i + 1 < data.size() ? data[i + 1] : 0);
  while (sum > 0xffff) sum = (sum >> 16) + (sum & 0xffff);
  return uint16_t(~sum & 0xffff);
}

// The checksum field zeroed, then the reference over what it covers.
uint16_t reference_ipv4_header_checksum(const uint8_t* ip) {
  Bytes h(ip, ip + 20);
  h[10] = h[11] = 0;
  return reference_checksum(h);
}
uint16_t reference_icmp_checksum(const uint8_t* icmp, size_t n) {
  Bytes m(icmp, icmp + n);
  m[2] = m[3] = 0;
  return reference_checksum(m);
}
uint16_t reference_icmpv6_checksum(const uint8_t* ip6) {
  const size_t n = get16(ip6 + 4);
  Bytes pseudo(ip6 + 8, ip6 + 40);  // source, destination
  pseudo.insert(pseudo.end(), {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n), 0, 0, 0, 58});
  Bytes m(ip6 + 40, ip6 + 40 + n);
  m[2] = m[3] = 0;
  pseudo.insert(pseudo.end(), m.begin(), m.end());
  return reference_checksum(pseudo);
}

std::array<uint8_t, 4> v4(const char* s) {
  std::array<uint8_t, 4> a{};
  EXPECT_EQ(inet_pton(AF_INET, s, a.data()), 1) << s;
  return a;
}
std::array<uint8_t, 16> v6(const char* s) {
  std::array<uint8_t, 16> a{};
  EXPECT_EQ(inet_pton(AF_INET6, s, a.data()), 1) << s;
  return a;
}

// An IPv4 packet of `total` bytes: header (with `options` bytes of options)
// and a payload of a counting pattern, the header checksum set.
Bytes ipv4_packet(size_t total, uint8_t proto, bool df, const char* src = "192.168.5.7", const char* dst = "10.77.0.2",
                  size_t options = 0, uint16_t frag_offset = 0, bool more_fragments = false) {
  const size_t hl = 20 + options;
  Bytes p(total);
  for (size_t i = hl; i < total; ++i) p[i] = uint8_t(i * 7 + 3);
  p[0] = uint8_t(0x40 | hl / 4);
  p[1] = 0x10;
  p[2] = uint8_t(total >> 8);
  p[3] = uint8_t(total);
  p[4] = 0x12;
  p[5] = 0x34;
  const uint16_t frag = uint16_t((df ? 0x4000 : 0) | (more_fragments ? 0x2000 : 0) | frag_offset);
  p[6] = uint8_t(frag >> 8);
  p[7] = uint8_t(frag);
  p[8] = 63;
  p[9] = proto;
  auto s = v4(src), d = v4(dst);
  std::memcpy(&p[12], s.data(), 4);
  std::memcpy(&p[16], d.data(), 4);
  for (size_t i = 20; i < hl; ++i) p[i] = 1;  // NOP options
  const uint16_t c = reference_ipv4_header_checksum(p.data());
  p[10] = uint8_t(c >> 8);
  p[11] = uint8_t(c);
  return p;
}

// An IPv6 packet of `total` bytes; `chain` is the extension headers as
// (type, bytes) after the fixed header, the last one's next header `proto`.
Bytes ipv6_packet(size_t total, uint8_t proto, const char* src = "fd77::1", const char* dst = "fd77::2",
                  const std::vector<std::pair<uint8_t, Bytes>>& chain = {}) {
  Bytes p(total);
  for (size_t i = 40; i < total; ++i) p[i] = uint8_t(i * 5 + 1);
  p[0] = 0x60;
  p[1] = 0x0a;  // a traffic class and flow label the answer does not copy
  p[2] = 0xbc;
  p[3] = 0xde;
  const size_t payload = total - 40;
  p[4] = uint8_t(payload >> 8);
  p[5] = uint8_t(payload);
  p[6] = chain.empty() ? proto : chain[0].first;
  p[7] = 64;
  auto s = v6(src), d = v6(dst);
  std::memcpy(&p[8], s.data(), 16);
  std::memcpy(&p[24], d.data(), 16);
  size_t off = 40;
  for (size_t i = 0; i < chain.size(); ++i) {
    std::memcpy(&p[off], chain[i].second.data(), chain[i].second.size());
    p[off] = i + 1 < chain.size() ? chain[i + 1].first : proto;
    off += chain[i].second.size();
  }
  return p;
}

Bytes hop_by_hop() { return Bytes{0, 0, 1, 4, 0, 0, 0, 0}; }  // PadN
Bytes fragment_header(uint16_t offset_units, bool more) {
  const uint16_t f = uint16_t(offset_units << 3 | (more ? 1 : 0));
  return Bytes{0, 0, uint8_t(f >> 8), uint8_t(f), 0xde, 0xad, 0xbe, 0xef};
}

constexpr uint8_t TCP = 6, UDP = 17, ICMP = 1, ICMPV6 = 58;

TEST(IcmpTooBig, Ipv4WithDfLongerThanMtuIsAnswered) {
  Bytes p = ipv4_packet(1500, TCP, true);
  EXPECT_TRUE(needs_too_big_answer(p.data(), p.size(), 1416));
  EXPECT_TRUE(needs_too_big_answer(p.data(), p.size(), 1499));
  EXPECT_FALSE(needs_too_big_answer(p.data(), p.size(), 1500));  // fits
  EXPECT_FALSE(needs_too_big_answer(p.data(), p.size(), 1501));
}

TEST(IcmpTooBig, Ipv4WithoutDfIsNotAnswered) {
  Bytes p = ipv4_packet(1500, UDP, false);
  EXPECT_FALSE(needs_too_big_answer(p.data(), p.size(), 1416));
}

TEST(IcmpTooBig, OnlyTheFirstFragmentIsAnswered) {
  Bytes first = ipv4_packet(1500, UDP, true, "192.168.5.7", "10.77.0.2", 0, 0, true);
  EXPECT_TRUE(needs_too_big_answer(first.data(), first.size(), 1416));
  Bytes later = ipv4_packet(1500, UDP, true, "192.168.5.7", "10.77.0.2", 0, 185);
  EXPECT_FALSE(needs_too_big_answer(later.data(), later.size(), 1416));

  Bytes first6 = ipv6_packet(1500, UDP, "fd77::1", "fd77::2", {{44, fragment_header(0, true)}});
  EXPECT_TRUE(needs_too_big_answer(first6.data(), first6.size(), 1416));
  Bytes later6 = ipv6_packet(1500, UDP, "fd77::1", "fd77::2", {{44, fragment_header(181, false)}});
  EXPECT_FALSE(needs_too_big_answer(later6.data(), later6.size(), 1416));
}

TEST(IcmpTooBig, IcmpErrorsAreNeverAnsweredEchoesAre) {
  for (uint8_t type : {3, 4, 5, 11, 12, 42}) {
    Bytes p = ipv4_packet(1500, ICMP, true);
    p[20] = type;
    EXPECT_FALSE(needs_too_big_answer(p.data(), p.size(), 1416)) << int(type);
  }
  Bytes echo = ipv4_packet(1500, ICMP, true);
  echo[20] = 8;
  EXPECT_TRUE(needs_too_big_answer(echo.data(), echo.size(), 1416));

  for (uint8_t type : {1, 2, 3, 4, 127}) {
    Bytes p = ipv6_packet(1500, ICMPV6);
    p[40] = type;
    EXPECT_FALSE(needs_too_big_answer(p.data(), p.size(), 1416)) << int(type);
    // Behind extension headers too.
    Bytes q = ipv6_packet(1500, ICMPV6, "fd77::1", "fd77::2", {{0, hop_by_hop()}, {44, fragment_header(0, true)}});
    q[56] = type;
    EXPECT_FALSE(needs_too_big_answer(q.data(), q.size(), 1416)) << int(type);
  }
  Bytes echo6 = ipv6_packet(1500, ICMPV6);
  echo6[40] = 128;
  EXPECT_TRUE(needs_too_big_answer(echo6.data(), echo6.size(), 1416));
}

TEST(IcmpTooBig, AnyIpv6LongerThanMtuIsAnswered) {
  Bytes p = ipv6_packet(1500, TCP);
  EXPECT_TRUE(needs_too_big_answer(p.data(), p.size(), 1384));
  EXPECT_FALSE(needs_too_big_answer(p.data(), p.size(), 1500));
  Bytes ext = ipv6_packet(1500, UDP, "fd77::1", "fd77::2", {{0, hop_by_hop()}, {60, hop_by_hop()}});
  EXPECT_TRUE(needs_too_big_answer(ext.data(), ext.size(), 1384));
}

TEST(IcmpTooBig, SourcesAndDestinationsThatAreNotOneHost) {
  for (const char* src : {"0.0.0.0", "127.0.0.1", "224.0.0.5", "255.255.255.255"}) {
    Bytes p = ipv4_packet(1500, UDP, true, src, "10.77.0.2");
    EXPECT_FALSE(needs_too_big_answer(p.data(), p.size(), 1416)) << src;
  }
  for (const char* dst : {"239.1.2.3", "255.255.255.255", "0.0.0.0"}) {
    Bytes p = ipv4_packet(1500, UDP, true, "192.168.5.7", dst);
    EXPECT_FALSE(needs_too_big_answer(p.data(), p.size(), 1416)) << dst;
  }
  for (const char* src : {"::", "::1", "ff02::1"}) {
    Bytes p = ipv6_packet(1500, UDP, src, "fd77::2");
    EXPECT_FALSE(needs_too_big_answer(p.data(), p.size(), 1416)) << src;
  }
  Bytes mcast = ipv6_packet(1500, UDP, "fd77::1", "ff05::2");
  EXPECT_FALSE(needs_too_big_answer(mcast.data(), mcast.size(), 1416));
}

TEST(IcmpTooBig, MalformedPacketsGetNothing) {
  uint8_t out[ICMP_TOO_BIG_ROOM];
  Bytes p = ipv4_packet(1500, UDP, true);
  // Cut short: the header claims more than there is.
  EXPECT_FALSE(needs_too_big_answer(p.data(), 1499, 1416));
  EXPECT_EQ(build_too_big(p.data(), 1499, 1416, out, sizeof out), 0u);
  // Header length below 20 and above the total.
  Bytes bad = p;
  bad[0] = 0x44;
  EXPECT_FALSE(needs_too_big_answer(bad.data(), bad.size(), 1416));
  EXPECT_EQ(build_too_big(bad.data(), bad.size(), 1416, out, sizeof out), 0u);
  Bytes tiny = ipv4_packet(20, UDP, true);
  tiny[0] = 0x4f;
  EXPECT_EQ(build_too_big(tiny.data(), tiny.size(), 1416, out, sizeof out), 0u);
  // Not IP at all, empty, and IPv6 with a jumbogram's zero payload length.
  Bytes junk(1500, 0x20);
  EXPECT_FALSE(needs_too_big_answer(junk.data(), junk.size(), 1416));
  EXPECT_EQ(build_too_big(junk.data(), junk.size(), 1416, out, sizeof out), 0u);
  EXPECT_FALSE(needs_too_big_answer(p.data(), 0, 1416));
  EXPECT_EQ(build_too_big(p.data(), 0, 1416, out, sizeof out), 0u);
  Bytes jumbo = ipv6_packet(1500, UDP);
  jumbo[4] = jumbo[5] = 0;
  EXPECT_FALSE(needs_too_big_answer(jumbo.data(), jumbo.size(), 1416));
  EXPECT_EQ(build_too_big(jumbo.data(), jumbo.size(), 1416, out, sizeof out), 0u);
  // An extension header running past the packet: the upper layer is unknown.
  Bytes runaway = ipv6_packet(1500, UDP, "fd77::1", "fd77::2", {{0, hop_by_hop()}});
  runaway[41] = 255;
  EXPECT_FALSE(needs_too_big_answer(runaway.data(), runaway.size(), 1416));
}

TEST(IcmpTooBig, Ipv4AnswerFieldsAndChecksums) {
  Bytes p = ipv4_packet(1500, TCP, true);
  uint8_t out[ICMP_TOO_BIG_ROOM];
  const size_t n = build_too_big(p.data(), p.size(), 1416, out, sizeof out);
  ASSERT_EQ(n, 576u);  // quoted up to 576 in all
  EXPECT_EQ(out[0], 0x45);
  EXPECT_EQ(get16(out + 2), 576);
  EXPECT_EQ(get16(out + 6) & 0x1fff, 0);  // not a fragment
  EXPECT_EQ(out[8], ICMP_TOO_BIG_HOP_LIMIT);
  EXPECT_EQ(out[9], ICMP);
  EXPECT_EQ(std::memcmp(out + 12, v4("10.77.0.2").data(), 4), 0);   // from the packet's destination
  EXPECT_EQ(std::memcmp(out + 16, v4("192.168.5.7").data(), 4), 0);  // to its source
  EXPECT_EQ(get16(out + 10), reference_ipv4_header_checksum(out));
  const uint8_t* icmp = out + 20;
  EXPECT_EQ(icmp[0], 3);
  EXPECT_EQ(icmp[1], 4);
  EXPECT_EQ(get16(icmp + 4), 0);
  EXPECT_EQ(get16(icmp + 6), 1416);
  EXPECT_EQ(std::memcmp(icmp + 8, p.data(), 548), 0);
  EXPECT_EQ(get16(icmp + 2), reference_icmp_checksum(icmp, n - 20));
  // The whole message sums to zero with its checksum in place.
  EXPECT_EQ(reference_checksum(Bytes(out + 20, out + n)), 0);
  EXPECT_EQ(reference_checksum(Bytes(out, out + 20)), 0);
}

TEST(IcmpTooBig, Ipv4WithOptionsQuotesTheWholeHeader) {
  Bytes p = ipv4_packet(1400, UDP, true, "192.168.5.7", "10.77.0.2", 40);
  EXPECT_TRUE(needs_too_big_answer(p.data(), p.size(), 1384));
  uint8_t out[ICMP_TOO_BIG_ROOM];
  const size_t n = build_too_big(p.data(), p.size(), 1384, out, sizeof out);
  ASSERT_EQ(n, 576u);
  EXPECT_EQ(std::memcmp(out + 28, p.data(), 548), 0);
  EXPECT_EQ(get16(out + 26), 1384);
  EXPECT_EQ(get16(out + 22), reference_icmp_checksum(out + 20, n - 20));

  // Room for the header and 8 bytes past the packet's header, no more: the
  // quote shrinks to it; one byte less and there is no answer.
  const size_t least = 28 + 60 + 8;
  EXPECT_EQ(build_too_big(p.data(), p.size(), 1384, out, least), least);
  EXPECT_EQ(get16(out + 2), least);
  EXPECT_EQ(get16(out + 10), reference_ipv4_header_checksum(out));
  EXPECT_EQ(get16(out + 22), reference_icmp_checksum(out + 20, least - 20));
  EXPECT_EQ(build_too_big(p.data(), p.size(), 1384, out, least - 1), 0u);
}

TEST(IcmpTooBig, ShortPacketIsQuotedWholeAndOddLengthsSumRight) {
  // An odd length exercises the checksum's padding byte.
  Bytes p = ipv4_packet(301, UDP, true);
  uint8_t out[ICMP_TOO_BIG_ROOM];
  const size_t n = build_too_big(p.data(), p.size(), 296, out, sizeof out);
  ASSERT_EQ(n, 28u + 301u);
  EXPECT_EQ(std::memcmp(out + 28, p.data(), 301), 0);
  EXPECT_EQ(get16(out + 22), reference_icmp_checksum(out + 20, n - 20));
  Bytes q = ipv6_packet(333, UDP);
  const size_t m = build_too_big(q.data(), q.size(), 300, out, sizeof out);
  ASSERT_EQ(m, 48u + 333u);
  EXPECT_EQ(get16(out + 42), reference_icmpv6_checksum(out));
}

TEST(IcmpTooBig, Ipv4MtuFieldIsCappedAt16Bits) {
  Bytes p = ipv4_packet(1500, UDP, true);
  uint8_t out[ICMP_TOO_BIG_ROOM];
  ASSERT_GT(build_too_big(p.data(), p.size(), 70000, out, sizeof out), 0u);
  EXPECT_EQ(get16(out + 26), 0xffff);
}

TEST(IcmpTooBig, Ipv6AnswerFieldsAndChecksum) {
  Bytes p = ipv6_packet(1500, TCP, "fd00:5::7", "fd77::2");
  uint8_t out[ICMP_TOO_BIG_ROOM];
  const size_t n = build_too_big(p.data(), p.size(), 1384, out, sizeof out);
  ASSERT_EQ(n, 1280u);  // quoted up to the minimum IPv6 MTU
  EXPECT_EQ(get32(out), 0x60000000u);  // no traffic class or flow label copied
  EXPECT_EQ(get16(out + 4), 1280 - 40);
  EXPECT_EQ(out[6], ICMPV6);
  EXPECT_EQ(out[7], ICMP_TOO_BIG_HOP_LIMIT);
  EXPECT_EQ(std::memcmp(out + 8, v6("fd77::2").data(), 16), 0);
  EXPECT_EQ(std::memcmp(out + 24, v6("fd00:5::7").data(), 16), 0);
  const uint8_t* icmp = out + 40;
  EXPECT_EQ(icmp[0], 2);
  EXPECT_EQ(icmp[1], 0);
  EXPECT_EQ(get32(icmp + 4), 1384u);
  EXPECT_EQ(std::memcmp(icmp + 8, p.data(), 1232), 0);
  EXPECT_EQ(get16(icmp + 2), reference_icmpv6_checksum(out));
}

TEST(IcmpTooBig, Ipv6RoomLimitsTheQuote) {
  Bytes p = ipv6_packet(1500, UDP);
  uint8_t out[ICMP_TOO_BIG_ROOM];
  EXPECT_EQ(build_too_big(p.data(), p.size(), 1300, out, 700), 700u);
  EXPECT_EQ(get16(out + 4), 660);
  EXPECT_EQ(get16(out + 42), reference_icmpv6_checksum(out));
  EXPECT_EQ(build_too_big(p.data(), p.size(), 1300, out, 96), 96u);
  EXPECT_EQ(build_too_big(p.data(), p.size(), 1300, out, 95), 0u);
}

// What the data plane does: every answer is itself a packet that is never
// answered (an ICMP error), of its announced length, within 1280.
TEST(IcmpTooBig, AnswersAreNeverAnswered) {
  uint8_t out[ICMP_TOO_BIG_ROOM];
  Bytes p4 = ipv4_packet(1500, UDP, true);
  size_t n = build_too_big(p4.data(), p4.size(), 1416, out, sizeof out);
  out[6] |= 0x40;  // even with DF
  EXPECT_FALSE(needs_too_big_answer(out, n, 100));
  Bytes p6 = ipv6_packet(1500, UDP);
  n = build_too_big(p6.data(), p6.size(), 1384, out, sizeof out);
  EXPECT_FALSE(needs_too_big_answer(out, n, 100));
}

}  // namespace
}  // namespace zeq
