// The offload packet library (protocol/inet_checksum, virtio_net_hdr,
// gso_segmenter, tcp_coalescer) against packets and checksums built here
// independently: a plain big-endian byte-pair sum, and a packet builder
// that writes every header field itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "core/bytes.hpp"
#include "protocol/gso_segmenter.hpp"
#include "protocol/inet_checksum.hpp"
#include "protocol/tcp_coalescer.hpp"
#include "protocol/virtio_net_hdr.hpp"

namespace zeq {
namespace {

constexpr uint8_t FIN = 0x01, SYN = 0x02, PSH = 0x08, ACK = 0x10, CWR = 0x80;
constexpr uint8_t TCP = 6, UDP = 17;

// ---- Reference checksum: RFC 1071 as written, 16-bit big-endian words.

uint16_t ref_fold(const uint8_t* p, size_t n, uint64_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint64_t(p[i]) << 8 | p[i + 1];
  if (n % 2) sum += uint64_t(p[n - 1]) << 8;
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return uint16_t(sum);
}
uint16_t ref_fold(const Bytes& b) { return ref_fold(b.data(), b.size()); }

// A memory-order 16-bit value as the big-endian number its bytes spell.
uint16_t as_be(uint16_t memory_order) {
  uint8_t b[2];
  std::memcpy(b, &memory_order, 2);
  return load_be16(b);
}

Bytes pseudo_header(int family, const uint8_t* src, const uint8_t* dst, uint8_t proto, uint32_t l4_len) {
  size_t a = family == 4 ? 4 : 16;
  Bytes b(src, src + a);
  b.insert(b.end(), dst, dst + a);
  if (family == 4) {
    b.insert(b.end(), {0, proto});
    append_be16(b, uint16_t(l4_len));
  } else {
    append_be32(b, l4_len);
    b.insert(b.end(), {0, 0, 0, proto});
  }
  return b;
}

// ---- Reference packet builder.

struct ExtHeader {
  uint8_t type;
  size_t len;  // multiple of 8
  uint8_t segments_left = 0;  // routing headers
};

struct Spec {
  int family = 4;
  uint8_t proto = TCP;
  Bytes ip_options;  // IPv4, a multiple of 4 bytes
  std::vector<ExtHeader> ext;  // IPv6
  uint8_t tos = 0, ttl = 64;
  uint16_t id = 0x1234;
  bool df = true;
  uint32_t flow_label = 0x12345;
  std::array<uint8_t, 16> src{}, dst{};
  uint16_t sport = 40000, dport = 5201;
  uint32_t seq = 1000, ack = 2000;
  uint8_t flags = ACK;
  uint16_t window = 500;
  Bytes tcp_options;  // a multiple of 4 bytes
  Bytes payload;
};

Spec v4_spec() {
  Spec s;
  s.src = {10, 0, 0, 1};
  s.dst = {10, 0, 0, 2};
  return s;
}
Spec v6_spec() {
  Spec s;
  s.family = 6;
  s.src = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  s.dst = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  return s;
}
Bytes timestamps_option(uint32_t tsval, uint32_t tsecr) {
  Bytes o = {1, 1, 8, 10};
  append_be32(o, tsval);
  append_be32(o, tsecr);
  return o;
}
Bytes pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(i * 31 + seed + (i >> 8));
  return b;
}

size_t l3_length(const Spec& s) {
  if (s.family == 4) return 20 + s.ip_options.size();
  size_t n = 40;
  for (const auto& e : s.ext) n += e.len;
  return n;
}

// A complete packet with every checksum right.
Bytes build(const Spec& s) {
  Bytes l4;
  if (s.proto == TCP) {
    append_be16(l4, s.sport);
    append_be16(l4, s.dport);
    append_be32(l4, s.seq);
    append_be32(l4, s.ack);
    l4.push_back(uint8_t((20 + s.tcp_options.size()) / 4) << 4);
    l4.push_back(s.flags);
    append_be16(l4, s.window);
    append_be16(l4, 0);  // checksum
    append_be16(l4, 0);  // urgent pointer
    l4.insert(l4.end(), s.tcp_options.begin(), s.tcp_options.end());
  } else if (s.proto == UDP) {
    append_be16(l4, s.sport);
    append_be16(l4, s.dport);
    append_be16(l4, uint16_t(8 + s.payload.size()));
    append_be16(l4, 0);
  }
  l4.insert(l4.end(), s.payload.begin(), s.payload.end());

  Bytes ip;
  size_t l3 = l3_length(s);
  if (s.family == 4) {
    ip.push_back(uint8_t(0x40 | l3 / 4));
    ip.push_back(s.tos);
    append_be16(ip, uint16_t(l3 + l4.size()));
    append_be16(ip, s.id);
    append_be16(ip, s.df ? 0x4000 : 0);
    ip.push_back(s.ttl);
    ip.push_back(s.proto);
    append_be16(ip, 0);
    ip.insert(ip.end(), s.src.begin(), s.src.begin() + 4);
    ip.insert(ip.end(), s.dst.begin(), s.dst.begin() + 4);
    ip.insert(ip.end(), s.ip_options.begin(), s.ip_options.end());
    store_be16(ip.data() + 10, uint16_t(~ref_fold(ip)));
  } else {
    append_be32(ip, 0x60000000u | uint32_t(s.tos) << 20 | s.flow_label);
    append_be16(ip, uint16_t(l3 - 40 + l4.size()));
    ip.push_back(s.ext.empty() ? s.proto : s.ext[0].type);
    ip.push_back(s.ttl);
    ip.insert(ip.end(), s.src.begin(), s.src.end());
    ip.insert(ip.end(), s.dst.begin(), s.dst.end());
    for (size_t i = 0; i < s.ext.size(); ++i) {
      Bytes e(s.ext[i].len, 0);
      e[0] = i + 1 < s.ext.size() ? s.ext[i + 1].type : s.proto;
      e[1] = uint8_t(s.ext[i].len / 8 - 1);
      if (s.ext[i].type == 43) e[3] = s.ext[i].segments_left;
      else if (s.ext[i].len > 2) e[2] = 1, e[3] = uint8_t(s.ext[i].len - 4);  // PadN over the rest
      ip.insert(ip.end(), e.begin(), e.end());
    }
  }

  size_t csum_at = s.proto == TCP ? 16 : 6;
  if (s.proto == TCP || s.proto == UDP) {
    Bytes sum = pseudo_header(s.family, s.src.data(), s.dst.data(), s.proto, uint32_t(l4.size()));
    sum.insert(sum.end(), l4.begin(), l4.end());
    uint16_t c = uint16_t(~ref_fold(sum));
    if (s.proto == UDP && c == 0) c = 0xFFFF;
    store_be16(l4.data() + csum_at, c);
  }
  ip.insert(ip.end(), l4.begin(), l4.end());
  return ip;
}

// What a TSO/USO super-packet from the kernel looks like: the L4 checksum
// field holds the pseudo-header sum over the whole L4 length.
Bytes build_super(const Spec& s) {
  Bytes p = build(s);
  size_t l3 = l3_length(s);
  size_t at = l3 + (s.proto == TCP ? 16 : 6);
  uint32_t l4_len = uint32_t(p.size() - l3);
  store_be16(p.data() + at, ref_fold(pseudo_header(s.family, s.src.data(), s.dst.data(), s.proto, l4_len)));
  return p;
}

VirtioNetHdr gso_hdr(const Spec& s, uint8_t gso_type, uint16_t gso_size) {
  VirtioNetHdr vh;
  vh.flags = vnet::kNeedsCsum;
  vh.gso_type = gso_type;
  vh.gso_size = gso_size;
  vh.hdr_len = 7;  // kernels' values vary; the segmenter must not rely on it
  vh.csum_start = uint16_t(l3_length(s));
  vh.csum_offset = s.proto == TCP ? 16 : 6;
  return vh;
}

// The segments the kernel's GSO would make of s, built independently.
std::vector<Bytes> expected_segments(const Spec& s, size_t gso_size) {
  std::vector<Bytes> out;
  size_t n = s.payload.empty() ? 1 : (s.payload.size() + gso_size - 1) / gso_size;
  for (size_t i = 0; i < n; ++i) {
    Spec seg = s;
    size_t at = i * gso_size;
    seg.payload.assign(s.payload.begin() + long(at), s.payload.begin() + long(std::min(at + gso_size, s.payload.size())));
    seg.id = uint16_t(s.id + i);
    seg.seq = uint32_t(s.seq + at);
    if (i + 1 < n) seg.flags &= uint8_t(~(FIN | PSH));
    if (i > 0) seg.flags &= uint8_t(~CWR);
    out.push_back(build(seg));
  }
  return out;
}

std::vector<Bytes> segment_all(GsoSegmenter& g) {
  std::vector<Bytes> out;
  for (;;) {
    Bytes buf(g.max_segment_size());  // exactly: ASan reports any write past it
    size_t n = g.next(buf.data(), buf.size());
    if (n == 0) break;
    EXPECT_LE(n, buf.size());
    buf.resize(n);
    out.push_back(buf);
  }
  EXPECT_EQ(g.remaining(), 0);
  return out;
}

std::vector<Bytes> segment(const VirtioNetHdr& vh, const Bytes& packet) {
  GsoSegmenter g;
  EXPECT_TRUE(g.reset(vh, packet.data(), packet.size()));
  auto out = segment_all(g);
  EXPECT_EQ(int(out.size()), g.segments());
  return out;
}

// ---- Inet checksum.

TEST(Checksum, MatchesReferenceForAllLengthsAndAlignments) {
  std::mt19937 rng(1);
  Bytes data(3000 + 16);
  for (auto& b : data) b = uint8_t(rng());
  for (size_t len = 0; len <= 3000; ++len) {
    size_t start = len % 8;
    uint16_t fast = checksum_fold(checksum_partial(data.data() + start, len));
    ASSERT_EQ(as_be(fast), ref_fold(data.data() + start, len)) << "len " << len << " start " << start;
  }
  for (size_t start = 0; start < 16; ++start)
    for (size_t len : {size_t(1400), size_t(1401), size_t(33), size_t(31)})
      ASSERT_EQ(as_be(checksum_fold(checksum_partial(data.data() + start, len))), ref_fold(data.data() + start, len));
}

TEST(Checksum, ExtremeValuesAndLongBuffers) {
  // All ones: the largest word values, carries on every add; longer than
  // one round of the lane sums (1 MiB).
  Bytes ones(3u << 20, 0xFF);
  for (size_t len : {size_t(0), size_t(1), size_t(2), size_t(65535), size_t(1u << 20), ones.size() - 1})
    ASSERT_EQ(as_be(checksum_fold(checksum_partial(ones.data(), len))), ref_fold(ones.data(), len)) << len;
  Bytes zeros(100, 0);
  EXPECT_EQ(checksum_fold(checksum_partial(zeros.data(), zeros.size())), 0);
  // A starting sum of all ones is a valid running sum too.
  uint32_t sum = checksum_partial(ones.data(), 64, 0xFFFFFFFF);
  EXPECT_EQ(checksum_fold(sum), 0xFFFF);
}

TEST(Checksum, ChainsEvenChunksThenAnOddLastOne) {
  std::mt19937 rng(2);
  Bytes data(5001);
  for (auto& b : data) b = uint8_t(rng());
  for (int round = 0; round < 200; ++round) {
    uint32_t sum = 0;
    size_t at = 0;
    while (at < data.size()) {
      size_t chunk = (rng() % 700) * 2;
      if (at + chunk >= data.size()) chunk = data.size() - at;  // the last, odd, chunk
      sum = checksum_partial(data.data() + at, chunk, sum);
      at += chunk;
    }
    ASSERT_EQ(as_be(checksum_fold(sum)), ref_fold(data));
  }
}

TEST(Checksum, PseudoHeaderMatchesReference) {
  std::mt19937 rng(3);
  for (int round = 0; round < 1000; ++round) {
    int family = round % 2 ? 6 : 4;
    std::array<uint8_t, 16> src, dst;
    for (auto& b : src) b = uint8_t(rng());
    for (auto& b : dst) b = uint8_t(rng());
    uint8_t proto = uint8_t(rng());
    uint32_t len = family == 4 ? rng() % 65536 : rng();
    uint16_t fast = checksum_fold(pseudo_header_sum(family, src.data(), dst.data(), proto, len));
    ASSERT_EQ(as_be(fast), ref_fold(pseudo_header(family, src.data(), dst.data(), proto, len)));
  }
}

// ---- virtio-net header.

TEST(VnetHdr, HostOrderLayoutAndRoundTrip) {
  VirtioNetHdr h{vnet::kNeedsCsum, vnet::kGsoTcpV6 | vnet::kGsoEcn, 74, 1428, 54, 16};
  uint8_t raw[VNET_HDR_LEN + 1];
  write_vnet_hdr(raw + 1, h);  // unaligned on purpose
  uint16_t v;
  std::memcpy(&v, raw + 1 + 4, 2);
  EXPECT_EQ(v, 1428);
  EXPECT_EQ(raw[1], vnet::kNeedsCsum);
  EXPECT_EQ(raw[2], 0x84);
  VirtioNetHdr back = read_vnet_hdr(raw + 1);
  EXPECT_EQ(back.flags, h.flags);
  EXPECT_EQ(back.gso_type, h.gso_type);
  EXPECT_EQ(back.hdr_len, 74);
  EXPECT_EQ(back.gso_size, 1428);
  EXPECT_EQ(back.csum_start, 54);
  EXPECT_EQ(back.csum_offset, 16);
}

// ---- GsoSegmenter.

void expect_tcp_segments(const Spec& s, uint8_t gso_type, uint16_t mss) {
  Bytes super = build_super(s);
  auto segs = segment(gso_hdr(s, gso_type, mss), super);
  auto want = expected_segments(s, mss);
  ASSERT_EQ(segs.size(), want.size());
  size_t l3 = l3_length(s);
  size_t hdrs = l3 + 20 + s.tcp_options.size();
  Bytes joined;
  for (size_t i = 0; i < segs.size(); ++i) {
    const Bytes& g = segs[i];
    bool last = i + 1 == segs.size();
    size_t payload = last ? s.payload.size() - i * mss : mss;
    ASSERT_EQ(g.size(), hdrs + payload) << i;
    if (s.family == 4) {
      EXPECT_EQ(load_be16(g.data() + 2), g.size());
      EXPECT_EQ(load_be16(g.data() + 4), uint16_t(s.id + i));
      EXPECT_EQ(ref_fold(g.data(), l3), 0xFFFF) << "IPv4 header checksum, segment " << i;
    } else {
      EXPECT_EQ(load_be16(g.data() + 4), g.size() - 40);
    }
    const uint8_t* tcp = g.data() + l3;
    EXPECT_EQ(load_be32(tcp + 4), uint32_t(s.seq + i * mss));
    uint8_t flags = tcp[13];
    EXPECT_EQ((flags & (FIN | PSH)) != 0, last && (s.flags & (FIN | PSH)) != 0);
    EXPECT_EQ((flags & CWR) != 0, i == 0 && (s.flags & CWR) != 0);
    Bytes pseudo = pseudo_header(s.family, s.src.data(), s.dst.data(), TCP, uint32_t(g.size() - l3));
    EXPECT_EQ(ref_fold(g.data() + l3, g.size() - l3, ref_fold(pseudo)), 0xFFFF) << "TCP checksum, segment " << i;
    EXPECT_TRUE(std::equal(s.tcp_options.begin(), s.tcp_options.end(), g.begin() + long(l3 + 20)));
    EXPECT_EQ(g, want[i]) << "segment " << i;
    joined.insert(joined.end(), g.begin() + long(hdrs), g.end());
  }
  EXPECT_EQ(joined, s.payload);
}

TEST(GsoSegmenter, Tso4WithIpAndTcpOptionsAndShortLastSegment) {
  Spec s = v4_spec();
  s.ip_options = {0x94, 0x04, 0x00, 0x00};  // router alert
  s.tcp_options = timestamps_option(0x01020304, 0x0a0b0c0d);
  s.flags = ACK | PSH | FIN | CWR;
  s.id = 0xFFFE;  // the ids wrap
  s.seq = 0xFFFFF000;  // and so does seq
  s.payload = pattern(5000, 7);
  expect_tcp_segments(s, vnet::kGsoTcpV4, 1448);
}

TEST(GsoSegmenter, Tso6PlainAndWithExtensionHeaders) {
  Spec s = v6_spec();
  s.tcp_options = timestamps_option(77, 88);
  s.flags = ACK | PSH;
  s.payload = pattern(4000, 1);
  expect_tcp_segments(s, vnet::kGsoTcpV6, 1428);
  s.ext = {{0, 8}, {43, 24, 0}, {60, 16}};  // hop-by-hop, routing (done), destination options
  expect_tcp_segments(s, vnet::kGsoTcpV6 | vnet::kGsoEcn, 1000);
}

TEST(GsoSegmenter, PayloadExactlyAMultipleAndSmallerThanGsoSize) {
  Spec s = v4_spec();
  s.payload = pattern(2 * 1448, 3);
  expect_tcp_segments(s, vnet::kGsoTcpV4, 1448);
  s.payload = pattern(1448, 3);
  expect_tcp_segments(s, vnet::kGsoTcpV4, 1448);
  s.payload = pattern(100, 3);
  expect_tcp_segments(s, vnet::kGsoTcpV4, 1448);
  s.payload.clear();
  expect_tcp_segments(s, vnet::kGsoTcpV4, 1448);
}

TEST(GsoSegmenter, UsoGivesEachDatagramItsLengthAndChecksum) {
  for (int family : {4, 6}) {
    Spec s = family == 4 ? v4_spec() : v6_spec();
    s.proto = UDP;
    s.payload = pattern(3000, uint8_t(family));
    auto segs = segment(gso_hdr(s, vnet::kGsoUdpL4, 1200), build_super(s));
    ASSERT_EQ(segs.size(), 3u);
    size_t l3 = l3_length(s);
    Bytes joined;
    for (size_t i = 0; i < segs.size(); ++i) {
      Spec one = s;
      one.payload.assign(s.payload.begin() + long(i * 1200), s.payload.begin() + long(std::min((i + 1) * 1200, s.payload.size())));
      one.id = uint16_t(s.id + i);
      EXPECT_EQ(segs[i], build(one)) << family << " " << i;
      EXPECT_EQ(load_be16(segs[i].data() + l3 + 4), segs[i].size() - l3);
      joined.insert(joined.end(), segs[i].begin() + long(l3 + 8), segs[i].end());
    }
    EXPECT_EQ(joined, s.payload);
  }
}

TEST(GsoSegmenter, UsoChecksumZeroIsSentAsAllOnes) {
  // The last datagram carries two payload bytes; pick them so that its
  // checksum comes out 0 (the reference builder then writes 0xFFFF, which
  // no nonzero data gives otherwise).
  Spec s = v4_spec();
  s.proto = UDP;
  s.payload = pattern(10, 0);
  Spec last = s;
  last.id = uint16_t(s.id + 2);
  for (uint32_t v = 0; v < 0x10000; ++v) {
    last.payload = {uint8_t(v >> 8), uint8_t(v)};
    if (load_be16(build(last).data() + 26) == 0xFFFF) break;
  }
  ASSERT_EQ(load_be16(build(last).data() + 26), 0xFFFF);
  s.payload[8] = last.payload[0], s.payload[9] = last.payload[1];
  auto segs = segment(gso_hdr(s, vnet::kGsoUdpL4, 4), build_super(s));
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[2], build(last));
}

TEST(GsoSegmenter, NoGsoCompletesAChecksumOrCopiesAsIs) {
  Spec s = v6_spec();
  s.proto = UDP;
  s.payload = pattern(333, 9);
  Bytes want = build(s);
  Bytes partial = build_super(s);
  VirtioNetHdr vh = gso_hdr(s, vnet::kGsoNone, 0);
  auto segs = segment(vh, partial);
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0], want);

  segs = segment(VirtioNetHdr{}, want);  // no flags: the packet as it is
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0], want);
  // ICMP, or anything: gso NONE does not look past the IP header.
  Spec icmp = v4_spec();
  icmp.proto = 1;
  icmp.payload = pattern(64, 2);
  segs = segment(VirtioNetHdr{}, build(icmp));
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0], build(icmp));
}

TEST(GsoSegmenter, TooSmallRoomWritesNothingAndKeepsItsPlace) {
  Spec s = v4_spec();
  s.payload = pattern(3000, 5);
  GsoSegmenter g;
  Bytes super = build_super(s);
  ASSERT_TRUE(g.reset(gso_hdr(s, vnet::kGsoTcpV4, 1000), super.data(), super.size()));
  EXPECT_EQ(g.segments(), 3);
  EXPECT_EQ(g.max_segment_size(), 40u + 1000u);
  Bytes buf(2000, 0xAB);
  EXPECT_EQ(g.next(buf.data(), 1039), 0u);
  EXPECT_EQ(std::count(buf.begin(), buf.end(), 0xAB), 2000);
  EXPECT_EQ(g.remaining(), 3);
  EXPECT_EQ(g.next(buf.data(), 1040), 1040u);
  EXPECT_EQ(g.remaining(), 2);
  EXPECT_EQ(g.next(nullptr, 5000), 0u);
}

struct Malformed {
  const char* what;
  VirtioNetHdr vh;
  Bytes packet;
};

TEST(GsoSegmenter, RefusesMalformedInput) {
  Spec s = v4_spec();
  s.tcp_options = timestamps_option(1, 2);
  s.payload = pattern(3000, 4);
  const Bytes good = build_super(s);
  const VirtioNetHdr vh = gso_hdr(s, vnet::kGsoTcpV4, 1448);
  std::vector<Malformed> cases;
  auto with = [&](const char* what, auto change_packet, auto change_hdr) {
    Malformed m{what, vh, good};
    change_packet(m.packet);
    change_hdr(m.vh);
    cases.push_back(m);
  };
  auto same = [](auto&) {};
  with("gso_size 0", same, [](VirtioNetHdr& h) { h.gso_size = 0; });
  with("UFO", same, [](VirtioNetHdr& h) { h.gso_type = vnet::kGsoUdp; });
  with("unknown gso type", same, [](VirtioNetHdr& h) { h.gso_type = 7; });
  with("TCPV6 on IPv4", same, [](VirtioNetHdr& h) { h.gso_type = vnet::kGsoTcpV6; });
  with("USO on TCP", same, [](VirtioNetHdr& h) { h.gso_type = vnet::kGsoUdpL4; });
  with("csum_start out of range", same, [&](VirtioNetHdr& h) { h.csum_start = uint16_t(good.size()); });
  with("csum_offset out of range", same, [&](VirtioNetHdr& h) { h.csum_offset = uint16_t(good.size() - h.csum_start - 1); });
  with("csum_start inside the IP header", same, [](VirtioNetHdr& h) { h.csum_start = 10, h.csum_offset = 0; });
  with("ihl < 5", [](Bytes& p) { p[0] = 0x44; }, same);
  with("ihl past the end", [](Bytes& p) { p.resize(40); store_be16(p.data() + 2, 40); p[0] = 0x4F; }, same);
  with("data offset < 5", [](Bytes& p) { p[32] = 0x40; }, same);
  with("data offset past the end", [](Bytes& p) { p.resize(50); store_be16(p.data() + 2, 50); }, same);
  with("TCP header cut short", [](Bytes& p) { p.resize(30); store_be16(p.data() + 2, 30); }, same);
  with("total length larger than len", [](Bytes& p) { p.pop_back(); }, same);
  with("total length smaller than len", [](Bytes& p) { p.push_back(0); }, same);
  with("not TCP", [](Bytes& p) { p[9] = UDP; }, same);
  with("fragment", [](Bytes& p) { p[6] |= 0x20; }, same);
  with("version 5", [](Bytes& p) { p[0] = 0x55; }, same);
  with("empty", [](Bytes& p) { p.clear(); }, same);
  with("header only", [](Bytes& p) { p.resize(19); }, same);

  Spec s6 = v6_spec();
  s6.payload = pattern(2000, 4);
  VirtioNetHdr vh6 = gso_hdr(s6, vnet::kGsoTcpV6, 1000);
  cases.push_back({"TCPV4 on IPv6", gso_hdr(s6, vnet::kGsoTcpV4, 1000), build_super(s6)});
  Spec routed = s6;
  routed.ext = {{43, 24, 1}};
  cases.push_back({"routing header with segments left", vh6, build_super(routed)});
  Spec fragment = s6;
  fragment.ext = {{44, 8}};
  cases.push_back({"IPv6 fragment header", vh6, build_super(fragment)});
  Spec late_hop = s6;
  late_hop.ext = {{60, 8}, {0, 8}};
  cases.push_back({"hop-by-hop not first", vh6, build_super(late_hop)});
  Spec cut = s6;
  cut.ext = {{60, 16}};
  Bytes cut_packet = build_super(cut);
  cut_packet.resize(40 + 10);
  store_be16(cut_packet.data() + 4, 10);
  cases.push_back({"extension header past the end", vh6, cut_packet});
  Bytes payload_len_zero = build_super(s6);
  store_be16(payload_len_zero.data() + 4, 0);
  cases.push_back({"IPv6 payload length 0 (jumbogram)", vh6, payload_len_zero});

  for (const auto& m : cases) {
    GsoSegmenter g;
    EXPECT_FALSE(g.reset(m.vh, m.packet.data(), m.packet.size())) << m.what;
    EXPECT_EQ(g.segments(), 0) << m.what;
    Bytes buf(70000);
    EXPECT_EQ(g.next(buf.data(), buf.size()), 0u) << m.what;
  }
  GsoSegmenter g;
  EXPECT_FALSE(g.reset(vh, nullptr, 0));
  EXPECT_TRUE(g.reset(vh, good.data(), good.size()));  // and a good one after all that
}

// Random damage to good packets and headers: never a read or write outside
// the packet or the buffer (ASan), and what comes out is consistent.
TEST(GsoSegmenter, SurvivesRandomDamage) {
  std::mt19937 rng(4);
  std::vector<std::pair<VirtioNetHdr, Bytes>> seeds;
  for (int family : {4, 6})
    for (uint8_t proto : {TCP, UDP}) {
      Spec s = family == 4 ? v4_spec() : v6_spec();
      s.proto = proto;
      s.tcp_options = timestamps_option(5, 6);
      s.payload = pattern(2500, 8);
      if (family == 6) s.ext = {{0, 8}};
      uint8_t type = proto == UDP ? vnet::kGsoUdpL4 : family == 4 ? vnet::kGsoTcpV4 : vnet::kGsoTcpV6;
      seeds.push_back({gso_hdr(s, type, 1000), build_super(s)});
    }
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    auto [vh, p] = seeds[rng() % seeds.size()];
    int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 5) {
        case 0: if (!p.empty()) p[rng() % std::min<size_t>(p.size(), 80)] = uint8_t(rng()); break;
        case 1: p.resize(rng() % (p.size() + 1)); break;
        case 2: vh.gso_size = uint16_t(rng() % 3000); break;
        case 3: vh.gso_type = uint8_t(rng() % 8) | (rng() % 2 ? vnet::kGsoEcn : 0); break;
        case 4: vh.csum_start = uint16_t(rng()), vh.csum_offset = uint16_t(rng() % 64), vh.flags = uint8_t(rng()); break;
      }
    }
    Bytes packet(p);  // exactly sized: ASan sees reads past it
    GsoSegmenter g;
    if (!g.reset(vh, packet.data(), packet.size())) continue;
    ++accepted;
    auto segs = segment_all(g);
    ASSERT_EQ(int(segs.size()), g.segments());
  }
  EXPECT_GT(accepted, 1000);
}

// ---- TcpCoalescer.

struct Write {
  VirtioNetHdr vh;
  Bytes packet;  // the iovecs after the virtio-net header, joined
  int iovcnt;
};

// Packets in buffers of their own, with room for the header in front.
class Batch {
 public:
  explicit Batch(int capacity) : coalescer(capacity) {}
  bool add(const Bytes& packet) {
    auto buf = std::make_unique<Bytes>(VNET_HDR_LEN + packet.size());
    std::copy(packet.begin(), packet.end(), buf->begin() + VNET_HDR_LEN);
    bool ok = coalescer.add(buf->data() + VNET_HDR_LEN, packet.size());
    if (ok) buffers_.push_back(std::move(buf));
    return ok;
  }
  std::vector<Write> flush() {
    std::vector<Write> writes;
    coalescer.flush([&](const iovec* iov, int iovcnt) {
      Bytes all;
      for (int i = 0; i < iovcnt; ++i) {
        auto* b = static_cast<const uint8_t*>(iov[i].iov_base);
        all.insert(all.end(), b, b + iov[i].iov_len);
      }
      writes.push_back({read_vnet_hdr(all.data()), Bytes(all.begin() + VNET_HDR_LEN, all.end()), iovcnt});
    });
    buffers_.clear();
    EXPECT_EQ(coalescer.size(), 0);
    return writes;
  }
  TcpCoalescer coalescer;

 private:
  std::vector<std::unique_ptr<Bytes>> buffers_;
};

std::vector<Write> coalesce(const std::vector<Bytes>& packets, int capacity = 64) {
  Batch batch(capacity);
  for (const auto& p : packets) EXPECT_TRUE(batch.add(p));
  return batch.flush();
}

bool zero_hdr(const VirtioNetHdr& h) {
  return h.flags == 0 && h.gso_type == 0 && h.hdr_len == 0 && h.gso_size == 0 && h.csum_start == 0 &&
         h.csum_offset == 0;
}

// s with `count` segments of mss from its seq on (the last `last_len`).
std::vector<Bytes> flow_segments(Spec s, int count, size_t mss, size_t last_len = 0) {
  std::vector<Bytes> out;
  for (int i = 0; i < count; ++i) {
    Spec one = s;
    one.payload = pattern(i + 1 == count && last_len ? last_len : mss, uint8_t(s.seq + i));
    one.seq = s.seq + uint32_t(i * mss);
    one.id = uint16_t(s.id + i);
    out.push_back(build(one));
  }
  return out;
}

// Checks a super-packet against the segments it was made of: its headers
// and gso fields, its checksum completed CHECKSUM_PARTIAL-style against
// the reference, and that GsoSegmenter gives the segments back exactly.
void expect_super_packet(const Write& w, const std::vector<Bytes>& members, const Spec& s) {
  ASSERT_GE(members.size(), 2u);
  size_t l3 = l3_length(s);
  size_t hdrs = l3 + 20 + s.tcp_options.size();
  EXPECT_EQ(w.iovcnt, int(members.size()));
  EXPECT_EQ(w.vh.flags, vnet::kNeedsCsum);
  EXPECT_EQ(w.vh.gso_type, s.family == 4 ? vnet::kGsoTcpV4 : vnet::kGsoTcpV6);
  EXPECT_EQ(w.vh.gso_size, members[0].size() - hdrs);
  EXPECT_EQ(w.vh.hdr_len, hdrs);
  EXPECT_EQ(w.vh.csum_start, l3);
  EXPECT_EQ(w.vh.csum_offset, 16);

  Bytes joined = members[0];
  for (size_t i = 1; i < members.size(); ++i) joined.insert(joined.end(), members[i].begin() + long(hdrs), members[i].end());
  ASSERT_EQ(w.packet.size(), joined.size());
  const Bytes& p = w.packet;
  if (s.family == 4) {
    EXPECT_EQ(load_be16(p.data() + 2), p.size());
    EXPECT_EQ(ref_fold(p.data(), l3), 0xFFFF);
  } else {
    EXPECT_EQ(load_be16(p.data() + 4), p.size() - 40);
  }
  uint8_t last_flags = members.back()[l3 + 13];
  EXPECT_EQ(p[l3 + 13], uint8_t((members[0][l3 + 13] & ~PSH) | (last_flags & PSH)));
  EXPECT_EQ(load_be16(p.data() + l3 + 14), load_be16(members.back().data() + l3 + 14));  // window
  uint32_t l4_len = uint32_t(p.size() - l3);
  Bytes pseudo = pseudo_header(s.family, s.src.data(), s.dst.data(), TCP, l4_len);
  EXPECT_EQ(load_be16(p.data() + l3 + 16), ref_fold(pseudo)) << "pseudo-header sum, not complemented";

  // The kernel's completion: sum from csum_start to the end, store ~fold.
  Bytes completed = p;
  uint16_t c = uint16_t(~ref_fold(completed.data() + l3, completed.size() - l3));
  store_be16(completed.data() + l3 + 16, c);
  Spec whole = s;
  whole.payload.assign(joined.begin() + long(hdrs), joined.end());
  whole.seq = load_be32(members[0].data() + l3 + 4);
  whole.id = s.family == 4 ? load_be16(members[0].data() + 4) : s.id;
  whole.flags = p[l3 + 13];
  whole.window = load_be16(members.back().data() + l3 + 14);
  EXPECT_EQ(completed, build(whole));

  // Round trip.
  GsoSegmenter g;
  ASSERT_TRUE(g.reset(w.vh, p.data(), p.size()));
  auto again = segment_all(g);
  ASSERT_EQ(again.size(), members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    Bytes want = members[i];
    store_be16(want.data() + l3 + 14, whole.window);  // the window is the group's last
    if (want != members[i]) {                         // then the TCP checksum changes too
      store_be16(want.data() + l3 + 16, 0);
      Bytes sum = pseudo_header(s.family, s.src.data(), s.dst.data(), TCP, uint32_t(want.size() - l3));
      sum.insert(sum.end(), want.begin() + long(l3), want.end());
      store_be16(want.data() + l3 + 16, uint16_t(~ref_fold(sum)));
    }
    EXPECT_EQ(again[i], want) << "segment " << i;
  }
}

TEST(TcpCoalescer, SegmenterOutputJoinsBackIntoTheSuperPacket) {
  for (int family : {4, 6}) {
    Spec s = family == 4 ? v4_spec() : v6_spec();
    s.tcp_options = timestamps_option(1000, 2000);
    s.flags = ACK | PSH;
    s.payload = pattern(10000, 11);
    Bytes super = build_super(s);
    VirtioNetHdr vh = gso_hdr(s, family == 4 ? vnet::kGsoTcpV4 : vnet::kGsoTcpV6, 1388);
    auto segs = segment(vh, super);
    ASSERT_EQ(segs.size(), 8u);
    auto writes = coalesce(segs);
    ASSERT_EQ(writes.size(), 1u);
    expect_super_packet(writes[0], segs, s);
    // The super-packet completed is the original, whose checksum field held
    // the pseudo-header sum.
    EXPECT_EQ(writes[0].packet, super);
    EXPECT_EQ(writes[0].vh.gso_size, 1388);
  }
}

TEST(TcpCoalescer, InterleavedFlowsEachCoalesce) {
  Spec a = v4_spec(), b = v4_spec();
  b.sport = 40001;
  b.seq = 777777;
  auto fa = flow_segments(a, 3, 1448, 500), fb = flow_segments(b, 3, 1448);
  auto writes = coalesce({fa[0], fb[0], fa[1], fb[1], fa[2], fb[2]});
  ASSERT_EQ(writes.size(), 2u);
  expect_super_packet(writes[0], fa, a);
  expect_super_packet(writes[1], fb, b);
}

TEST(TcpCoalescer, FinInTheMiddleIsWrittenByItself) {
  Spec s = v6_spec();
  auto f = flow_segments(s, 4, 1000);
  Spec fin = s;
  fin.seq = s.seq + 2000;
  fin.flags = ACK | FIN;
  fin.payload = pattern(1000, 2);
  fin.id = uint16_t(s.id + 2);
  f[2] = build(fin);
  auto writes = coalesce(f);
  ASSERT_EQ(writes.size(), 3u);
  expect_super_packet(writes[0], {f[0], f[1]}, s);
  EXPECT_TRUE(zero_hdr(writes[1].vh));
  EXPECT_EQ(writes[1].packet, f[2]);
  EXPECT_TRUE(zero_hdr(writes[2].vh));
  EXPECT_EQ(writes[2].packet, f[3]);
}

TEST(TcpCoalescer, GapsAndRetransmitsStartNewGroups) {
  Spec s = v4_spec();
  auto f = flow_segments(s, 5, 1200);
  // f[3] comes early (a gap), then f[2] and f[3] again (a retransmit).
  auto writes = coalesce({f[0], f[1], f[3], f[2], f[3], f[4]});
  ASSERT_EQ(writes.size(), 3u);
  expect_super_packet(writes[0], {f[0], f[1]}, s);
  EXPECT_EQ(writes[1].packet, f[3]);
  EXPECT_TRUE(zero_hdr(writes[1].vh));
  expect_super_packet(writes[2], {f[2], f[3], f[4]}, s);
  // A retransmit of what a group already holds does not join it.
  writes = coalesce({f[0], f[1], f[1], f[2]});
  ASSERT_EQ(writes.size(), 2u);
  expect_super_packet(writes[0], {f[0], f[1]}, s);
  expect_super_packet(writes[1], {f[1], f[2]}, s);
}

TEST(TcpCoalescer, OtherProtocolsPassBetweenWithoutBreakingAGroup) {
  Spec s = v4_spec();
  auto f = flow_segments(s, 3, 1448);
  Spec udp = v4_spec();
  udp.proto = UDP;
  udp.payload = pattern(100, 1);
  Bytes u = build(udp);
  Bytes junk = {0x00, 0x01, 0x02};
  auto writes = coalesce({f[0], u, f[1], junk, f[2]});
  ASSERT_EQ(writes.size(), 3u);
  expect_super_packet(writes[0], f, s);
  EXPECT_TRUE(zero_hdr(writes[1].vh));
  EXPECT_EQ(writes[1].packet, u);
  EXPECT_EQ(writes[1].iovcnt, 1);
  EXPECT_EQ(writes[2].packet, junk);
}

TEST(TcpCoalescer, ShortOrPushedSegmentEndsTheGroup) {
  Spec s = v6_spec();
  auto f = flow_segments(s, 4, 1000);
  Spec short_one = s;
  short_one.seq = s.seq + 1000;
  short_one.payload = pattern(400, 9);
  f[1] = build(short_one);
  for (int i = 2; i < 4; ++i) {
    Spec next = s;
    next.seq = s.seq + 1400 + uint32_t(i - 2) * 1000;
    next.payload = pattern(1000, uint8_t(i));
    f[size_t(i)] = build(next);
  }
  auto writes = coalesce(f);
  ASSERT_EQ(writes.size(), 2u);
  expect_super_packet(writes[0], {f[0], f[1]}, s);
  expect_super_packet(writes[1], {f[2], f[3]}, s);

  auto g = flow_segments(v4_spec(), 3, 1000);
  Spec pushed = v4_spec();
  pushed.seq += 1000;
  pushed.id += 1;
  pushed.flags = ACK | PSH;
  pushed.payload = pattern(1000, 1);
  g[1] = build(pushed);
  writes = coalesce(g);
  ASSERT_EQ(writes.size(), 2u);
  expect_super_packet(writes[0], {g[0], g[1]}, v4_spec());
  EXPECT_EQ(writes[0].packet[20 + 13], ACK | PSH);
  EXPECT_EQ(writes[1].packet, g[2]);
}

TEST(TcpCoalescer, PureAcksAndControlSegmentsAreNotJoined) {
  Spec s = v4_spec();
  auto f = flow_segments(s, 2, 1000);
  Spec ack = s;
  ack.seq = s.seq + 1000;
  Bytes pure_ack = build(ack);
  Spec syn = s;
  syn.flags = SYN;
  syn.payload = pattern(10, 1);
  auto writes = coalesce({f[0], pure_ack, f[1], pure_ack, pure_ack, build(syn)});
  ASSERT_EQ(writes.size(), 6u);
  for (const auto& w : writes) EXPECT_TRUE(zero_hdr(w.vh));
  EXPECT_EQ(writes[0].packet, f[0]);
  EXPECT_EQ(writes[2].packet, f[1]);
}

TEST(TcpCoalescer, HeadersThatDifferKeepSegmentsApart) {
  Spec s = v4_spec();
  s.tcp_options = timestamps_option(1, 1);
  auto f = flow_segments(s, 2, 1000);
  std::vector<std::pair<const char*, std::function<void(Spec&)>>> changes = {
      {"ack", [](Spec& t) { t.ack += 1; }},
      {"options", [](Spec& t) { t.tcp_options = timestamps_option(2, 1); }},
      {"ttl", [](Spec& t) { t.ttl = 63; }},
      {"tos", [](Spec& t) { t.tos = 0x02; }},
      {"df", [](Spec& t) { t.df = false; }},
      {"ip options", [](Spec& t) { t.ip_options = {1, 1, 1, 0}; }},
      {"longer", [](Spec& t) { t.payload.push_back(1); }},
      {"dst", [](Spec& t) { t.dst[3] = 9; }},
  };
  for (auto& [what, change] : changes) {
    Spec second = s;
    second.seq += 1000;
    second.id += 1;
    second.payload = pattern(1000, 3);
    change(second);
    auto writes = coalesce({f[0], build(second)});
    EXPECT_EQ(writes.size(), 2u) << what;
  }
  // The window may differ: the group takes the last one's.
  Spec second = s;
  second.seq += 1000;
  second.id += 1;
  second.window = 900;
  second.payload = pattern(1000, 3);
  auto writes = coalesce({f[0], build(second)});
  ASSERT_EQ(writes.size(), 1u);
  expect_super_packet(writes[0], {f[0], build(second)}, s);
  EXPECT_EQ(load_be16(writes[0].packet.data() + 20 + 14), 900);
}

TEST(TcpCoalescer, WithoutDfTheIdsMustFollowEachOther) {
  Spec s = v4_spec();
  s.df = false;
  auto f = flow_segments(s, 3, 1000);
  auto writes = coalesce(f);
  ASSERT_EQ(writes.size(), 1u);
  expect_super_packet(writes[0], f, s);
  Spec odd = s;
  odd.seq += 2000;
  odd.id += 7;
  odd.payload = pattern(1000, 2);
  f[2] = build(odd);
  writes = coalesce(f);
  ASSERT_EQ(writes.size(), 2u);
}

TEST(TcpCoalescer, GroupsStayWithin64K) {
  Spec s = v4_spec();
  s.tcp_options = timestamps_option(3, 4);
  auto f = flow_segments(s, 50, 1448);
  auto writes = coalesce(f);
  // 52 bytes of headers + 45 * 1448 = 65212; one more would pass 65535.
  ASSERT_EQ(writes.size(), 2u);
  expect_super_packet(writes[0], std::vector<Bytes>(f.begin(), f.begin() + 45), s);
  expect_super_packet(writes[1], std::vector<Bytes>(f.begin() + 45, f.end()), s);
}

TEST(TcpCoalescer, CapacityAndClear) {
  auto f = flow_segments(v4_spec(), 5, 100);
  Batch batch(4);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(batch.add(f[size_t(i)]));
  EXPECT_FALSE(batch.add(f[4]));
  auto writes = batch.flush();
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].iovcnt, 4);
  EXPECT_TRUE(batch.add(f[4]));
  writes = batch.flush();
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].packet, f[4]);
}

// Many flows, random damage and order: every packet comes out exactly once,
// each flow's packets in offer order, and every super-packet segments back
// into its members.
TEST(TcpCoalescer, RandomBatchesKeepEveryPacketAndEachFlowsOrder) {
  std::mt19937 rng(5);
  for (int round = 0; round < 300; ++round) {
    int flows = 1 + int(rng() % 12);
    std::vector<Spec> specs;
    for (int i = 0; i < flows; ++i) {
      Spec s = rng() % 2 ? v4_spec() : v6_spec();
      s.sport = uint16_t(1000 + i);
      s.seq = rng();
      s.df = rng() % 4 != 0;
      if (rng() % 2) s.tcp_options = timestamps_option(rng(), 1);
      specs.push_back(s);
    }
    std::vector<Bytes> packets;
    std::vector<int> flow_of;
    int count = 1 + int(rng() % 60);
    for (int k = 0; k < count; ++k) {
      int i = int(rng() % flows);
      Spec one = specs[size_t(i)];
      size_t len = rng() % 8 ? 600 : rng() % 700;
      one.payload = pattern(len, uint8_t(k));
      if (rng() % 10 == 0) one.flags |= PSH;
      if (rng() % 20 == 0) one.flags = ACK | FIN;
      if (rng() % 15 == 0) one.seq += 1;  // a gap
      packets.push_back(build(one));
      flow_of.push_back(i);
      specs[size_t(i)].seq = one.seq + uint32_t(len);
      specs[size_t(i)].id = uint16_t(one.id + 1);
    }
    auto writes = coalesce(packets);
    // Each write, split back into packets.
    std::vector<Bytes> out;
    for (const auto& w : writes) {
      if (zero_hdr(w.vh)) {
        out.push_back(w.packet);
        continue;
      }
      GsoSegmenter g;
      ASSERT_TRUE(g.reset(w.vh, w.packet.data(), w.packet.size()));
      auto segs = segment_all(g);
      ASSERT_EQ(int(segs.size()), w.iovcnt);
      out.insert(out.end(), segs.begin(), segs.end());
    }
    ASSERT_EQ(out.size(), packets.size());
    // Per flow, in order. Segments may differ from what was offered only in
    // the window (all equal here) and the IPv4 id and header checksum of
    // DF packets (the segmenter numbers them).
    auto normalize = [](Bytes p) {
      if (!p.empty() && p[0] >> 4 == 4 && (p[6] & 0x40)) std::fill(p.begin() + 4, p.begin() + 6, 0), std::fill(p.begin() + 10, p.begin() + 12, 0);
      return p;
    };
    for (int i = 0; i < flows; ++i) {
      std::vector<Bytes> offered, emitted;
      for (size_t k = 0; k < packets.size(); ++k)
        if (flow_of[k] == i) offered.push_back(normalize(packets[k]));
      uint16_t sport = uint16_t(1000 + i);
      for (const auto& p : out) {
        size_t l3 = p[0] >> 4 == 4 ? 20 : 40;
        if (load_be16(p.data() + l3) == sport) emitted.push_back(normalize(p));
      }
      ASSERT_EQ(emitted, offered) << "round " << round << " flow " << i;
    }
  }
}

}  // namespace
}  // namespace zeq
