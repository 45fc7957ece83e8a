// Fuzz target: what the load-time defence (docs/protocol.md "Cookie reply
// and mac2") reads from the network. The first byte picks the path:
//  - 0x03: a CookieReply, as the initiator's PeerCookie reads it against the
//    mac1 of the vectors' initiation (the one it "sent");
//  - 0x01/0x02 of a size with or without mac2: the handshake guard of a
//    node under load, as a worker runs it (cookie reply, mac2 check, rate
//    limit). Every input meets a fresh guard whose cookie secret is the
//    vectors' (so the seed with mac2 passes): one guard kept across inputs
//    spent its reply budget on the first few and answered the rest
//    unanswered, never reaching the reply or the mac2 check again. A reply
//    the guard sends must open for the sender against the mac1 it sent, and
//    the mac2 made from it must pass the guard.
// Any other input goes to both parsers' size checks.
#include <array>
#include <cstddef>
#include <cstdint>

#include "fixed_keys.hpp"
#include "mesh/handshake_guard.hpp"
#include "protocol/cookie.hpp"

namespace {

// Deterministic "randomness" for the guard's secret and reply nonces. The
// guard's first draw is its cookie secret: 0x40..0x5f, the secret of
// tests/data/cookie-vectors.json.
class CountingRandom final : public zeq::RandomSource {
 public:
  void fill(std::span<uint8_t> out) override {
    for (auto& b : out) b = uint8_t(next_++);
  }
  uint32_t uniform(uint32_t upper_bound) override { return upper_bound ? next_++ % upper_bound : 0; }

 private:
  uint32_t next_ = 0x40;
};

struct State {
  zeq::LocalIdentity responder = zeq::fuzz::identity_from_hex(zeq::fuzz::RESPONDER_PRIVATE_HEX);
  zeq::UdpEndpoint from = *zeq::parse_udp_endpoint("198.51.100.7:51820");
  // The vectors' initiation: the seed corpus's reply (tests/data/cookie-vectors.json) answers it.
  zeq::Bytes sent_initiation = zeq::fuzz::hex_bytes(
      "010000001122334464b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466f73da8356b8c5ff7"
      "72119bc2ed4e22a148046efa6147f7e733a2aa25f334dfee8cc4d272d825c5ba60c96d1c7eb466d8082ee69873888921"
      "24165df8206fb41735f68ec25fcbc51fdafff07a74aa66bdead63b176800ab2f613d5d605fd7d39b9bb2a21b1275e99d"
      "7edb571e834780df814deb47d76f51f302d2bd4bdbfb900d6073c5a6936144090f");
};

// A handshake message to a node under load. Returns normally unless a
// property breaks (then traps).
void guard_path(const State& s, zeq::ByteSpan input) {
  using zeq::HandshakeGuard;
  using Verdict = HandshakeGuard::Verdict;
  constexpr int64_t now = 10 * zeq::TAU_ZQ_US;
  CountingRandom random;
  HandshakeGuard guard(s.responder.keypair.public_key, random);
  std::array<uint8_t, zeq::wire::COOKIE_REPLY_SIZE> reply{};
  const auto verdict = guard.check(input, s.from, HandshakeGuard::LOAD_QUEUE_DEPTH, now, reply);
  if (verdict == Verdict::kPass) {
    // Under load only a valid mac2 passes, and its source's bucket still
    // holds it to the burst.
    if (zeq::mac2_presence(input) != zeq::Mac2Presence::kPresent) __builtin_trap();
    for (int64_t i = 1; i < zeq::SourceRateLimiter::BURST; ++i)
      if (guard.check(input, s.from, HandshakeGuard::LOAD_QUEUE_DEPTH, now, reply) != Verdict::kPass)
        __builtin_trap();
    if (guard.check(input, s.from, HandshakeGuard::LOAD_QUEUE_DEPTH, now, reply) != Verdict::kRateLimited)
      __builtin_trap();
    return;
  }
  if (verdict != Verdict::kCookieReply) __builtin_trap();  // a fresh guard has its whole budget
  // What the sender does with the reply.
  const size_t base = zeq::handshake_base_size(input);
  zeq::PeerCookie jar(s.responder.keypair.public_key);
  jar.remember_sent(input.first(base));
  if (!jar.accept_reply(reply, now)) __builtin_trap();
  zeq::Bytes again(input.begin(), input.begin() + long(base));
  again.resize(base + zeq::wire::MAC2_SIZE);
  if (jar.add_mac2(again, base, now) != again.size()) __builtin_trap();
  if (guard.check(again, s.from, HandshakeGuard::LOAD_QUEUE_DEPTH, now, reply) != Verdict::kPass)
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const State s;
  zeq::ByteSpan input(data, size);
  if (size > 0 && (data[0] == zeq::wire::kHandshakeInit || data[0] == zeq::wire::kHandshakeResponse) &&
      zeq::mac2_presence(input) != zeq::Mac2Presence::kBadSize) {
    guard_path(s, input);
    return 0;
  }
  zeq::PeerCookie jar(s.responder.keypair.public_key);
  jar.remember_sent(s.sent_initiation);
  if (jar.accept_reply(input, 0)) {
    zeq::Bytes out(zeq::wire::INIT_WITH_MAC2_SIZE, 0);
    (void)jar.add_mac2(out, zeq::wire::INIT_SIZE, 0);
  }
  return 0;
}
