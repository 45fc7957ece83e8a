// Fuzz target: what the load-time defence (docs/protocol.md "Cookie reply
// and mac2") reads from the network. The first byte picks the path:
//  - 0x03: a CookieReply, as the initiator's PeerCookie reads it against the
//    mac1 of the vectors' initiation (the one it "sent");
//  - 0x01/0x02 of a size with or without mac2: the handshake guard of a
//    node under load, as a worker runs it (cookie reply, mac2 check, rate
//    limit), on a fixed clock and randomness.
// Any other input goes to both parsers' size checks.
#include <array>
#include <cstddef>
#include <cstdint>

#include "fixed_keys.hpp"
#include "mesh/handshake_guard.hpp"
#include "protocol/cookie.hpp"

namespace {

// Deterministic "randomness" for the guard's secret and reply nonces.
class CountingRandom final : public zeq::RandomSource {
 public:
  void fill(std::span<uint8_t> out) override {
    for (auto& b : out) b = uint8_t(next_++);
  }
  uint32_t uniform(uint32_t upper_bound) override { return upper_bound ? next_++ % upper_bound : 0; }

 private:
  uint32_t next_ = 1;
};

struct State {
  zeq::LocalIdentity responder = zeq::fuzz::identity_from_hex(zeq::fuzz::RESPONDER_PRIVATE_HEX);
  CountingRandom random;
  zeq::HandshakeGuard guard{responder.keypair.public_key, random};
  zeq::UdpEndpoint from = *zeq::parse_udp_endpoint("198.51.100.7:51820");
  // The vectors' initiation: the seed corpus's reply (tests/data/cookie-vectors.json) answers it.
  zeq::Bytes sent_initiation = zeq::fuzz::hex_bytes(
      "010000001122334464b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466f73da8356b8c5ff7"
      "72119bc2ed4e22a148046efa6147f7e733a2aa25f334dfee8cc4d272d825c5ba60c96d1c7eb466d8082ee69873888921"
      "24165df8206fb41735f68ec25fcbc51fdafff07a74aa66bdead63b176800ab2f613d5d605fd7d39b9bb2a21b1275e99d"
      "7edb571e834780df814deb47d76f51f302d2bd4bdbfb900d6073c5a6936144090f");
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static State s;
  zeq::ByteSpan input(data, size);
  if (size > 0 && (data[0] == zeq::wire::kHandshakeInit || data[0] == zeq::wire::kHandshakeResponse) &&
      zeq::mac2_presence(data[0], size) != zeq::Mac2Presence::kBadSize) {
    std::array<uint8_t, zeq::wire::COOKIE_REPLY_SIZE> reply{};
    (void)s.guard.check(input, s.from, zeq::HandshakeGuard::LOAD_QUEUE_DEPTH, 10 * zeq::TAU_ZQ_US, reply);
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
