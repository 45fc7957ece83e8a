// Fuzz target: the ICMP "too big" answers (protocol/icmp_too_big.hpp) the
// data plane builds for packets from the TUN, which any local program (or a
// host routed through this node) writes. Input: 2 bytes of MTU (big-endian),
// 1 byte choosing the room (0: ICMP_TOO_BIG_ROOM, else that many times 6
// bytes, capped at it), then the packet. Properties, trapped when broken:
//  - nothing is read past the packet or written past the room (the answer
//    goes into a buffer with guard bytes after the room);
//  - a packet that needs an answer always gets one with the full room;
//  - an answer is at most 576 (IPv4) or 1280 (IPv6) bytes and the room, is
//    of its announced length, comes from the packet's destination to its
//    source, carries the MTU, quotes the packet's first bytes, and its IPv4
//    header and ICMP / ICMPv6 (pseudo-header) checksums sum to zero;
//  - an answer never needs an answer itself, whatever the MTU.
// The seed corpus (corpus/icmp_too_big/) is make_corpus.py icmp_seeds().
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "protocol/icmp_too_big.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

uint16_t get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

uint32_t sum(const uint8_t* p, size_t n, uint32_t s = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) s += get16(p + i);
  if (n & 1) s += uint32_t(p[n - 1]) << 8;
  return s;
}
bool sums_to_zero(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return s == 0xffff;
}

constexpr size_t GUARD = 64;
constexpr uint8_t GUARD_BYTE = 0xa5;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint32_t mtu = get16(data);
  const size_t room = data[2] == 0 ? zeq::ICMP_TOO_BIG_ROOM : std::min<size_t>(zeq::ICMP_TOO_BIG_ROOM, data[2] * 6u);
  // The packet in a buffer of exactly its size, so reading past it is
  // caught by ASan.
  const std::vector<uint8_t> packet(data + 3, data + size);
  const uint8_t* p = packet.empty() ? nullptr : packet.data();
  const size_t len = packet.size();

  const bool needs = zeq::needs_too_big_answer(p, len, mtu);
  for (size_t other : {size_t{0}, size_t{1280}, len ? len - 1 : 0}) (void)zeq::needs_too_big_answer(p, len, other);

  std::vector<uint8_t> out(room + GUARD, GUARD_BYTE);
  const size_t n = zeq::build_too_big(p, len, mtu, out.data(), room);
  for (size_t i = room; i < out.size(); ++i) check(out[i] == GUARD_BYTE);
  if (needs && room == zeq::ICMP_TOO_BIG_ROOM) check(n > 0);
  if (n == 0) return 0;

  check(n <= room);
  const uint8_t* a = out.data();
  if ((p[0] >> 4) == 4) {
    check(n <= zeq::ICMP4_TOO_BIG_MAX && n >= 28 && a[0] == 0x45 && get16(a + 2) == n && a[9] == 1);
    check(std::memcmp(a + 12, p + 16, 4) == 0 && std::memcmp(a + 16, p + 12, 4) == 0);
    check(a[20] == 3 && a[21] == 4 && get16(a + 26) == std::min<uint32_t>(mtu, 0xffff));
    check(std::memcmp(a + 28, p, n - 28) == 0);
    check(sums_to_zero(sum(a, 20)) && sums_to_zero(sum(a + 20, n - 20)));
  } else {
    check((p[0] >> 4) == 6);
    check(n <= zeq::ICMP6_TOO_BIG_MAX && n >= 48 && (a[0] >> 4) == 6 && get16(a + 4) + 40u == n && a[6] == 58);
    check(std::memcmp(a + 8, p + 24, 16) == 0 && std::memcmp(a + 24, p + 8, 16) == 0);
    check(a[40] == 2 && a[41] == 0 && (uint32_t(get16(a + 44)) << 16 | get16(a + 46)) == mtu);
    check(std::memcmp(a + 48, p, n - 48) == 0);
    check(sums_to_zero(sum(a + 40, n - 40, sum(a + 8, 32) + uint32_t(n - 40) + 58)));
  }
  // Errors never answer errors, even with DF set on an IPv4 answer.
  std::vector<uint8_t> answer(a, a + n);
  if ((answer[0] >> 4) == 4) answer[6] |= 0x40;
  for (size_t m : {size_t{0}, size_t{68}, size_t{1280}}) check(!zeq::needs_too_big_answer(answer.data(), n, m));
  return 0;
}
