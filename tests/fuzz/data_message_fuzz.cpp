// Fuzz target: a data message (0x04) as a data-plane worker receives it:
// header, replay pre-check, AES-GCM open under a fixed session key (the
// vectors' key_i2r), replay accept, then the plaintext's dispatch by its
// first byte and the IP length and address parsing of cryptokey routing.
//
// A forged tag never opens, so past the open the fuzzer would only ever see
// the seed's plaintext. The target therefore also seals the fuzzed body as a
// plaintext under the same key and opens it again: the open and everything
// after it then run on fuzzer-chosen plaintext. The replay window is driven
// by the body read as a sequence of 64-bit counters.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "crypto/aead.hpp"
#include "fixed_keys.hpp"
#include "protocol/control_message.hpp"
#include "protocol/data_message.hpp"
#include "protocol/ip_packet.hpp"
#include "protocol/replay_window.hpp"
#include "protocol/wire.hpp"

namespace {

struct SessionKey {
  zeq::Key32 key{zeq::fuzz::hex_bytes(zeq::fuzz::KEY_I2R_HEX)};
  zeq::AeadContext opener = zeq::AeadContext::create(zeq::AeadContext::Direction::kOpen, key.span()).value();
  zeq::AeadContext sealer = zeq::AeadContext::create(zeq::AeadContext::Direction::kSeal, key.span()).value();
};

// Copies the addresses out, so a read past the packet is a sanitizer report.
void route(const uint8_t* plain, size_t len) {
  size_t ip_len = zeq::ip_packet_length(zeq::ByteSpan(plain, len));
  if (ip_len == 0) return;
  if (ip_len > len) __builtin_trap();  // it may trim the padding, never grow the packet
  std::array<uint8_t, 16> addr{};
  size_t n = zeq::ip_version(zeq::ByteSpan(plain, len)) == 4 ? 4 : 16;
  std::memcpy(addr.data(), zeq::ip_source(plain), n);
  std::memcpy(addr.data(), zeq::ip_destination(plain), n);
}

// What receive.cpp does with an opened plaintext.
void deliver(const uint8_t* plain, size_t len) {
  if (len == 0) return;  // keepalive
  if (plain[0] == zeq::wire::PLAINTEXT_COVER) return;
  if (plain[0] == zeq::wire::PLAINTEXT_CONTROL) {
    (void)zeq::parse_dns_offer(zeq::ByteSpan(plain, len));
    return;
  }
  route(plain, len);
}

void drive_replay_window(zeq::ByteSpan body) {
  zeq::ReplayWindow window;
  for (size_t at = 0; at + 8 <= body.size(); at += 8) {
    uint64_t counter = zeq::load_be64(body.data() + at);
    bool may = window.may_accept(counter);
    bool accepted = window.accept(counter);
    if (accepted && !may) __builtin_trap();  // the pre-check may never refuse what accept takes
    if (window.may_accept(counter)) __builtin_trap();  // a counter just seen or refused stays refused
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static SessionKey session;
  zeq::Bytes msg(data, data + size);
  zeq::DataHeader header;
  if (!zeq::parse_data_header(msg, header)) return 0;
  zeq::ByteSpan body(data + zeq::wire::DATA_OVERHEAD, size - zeq::wire::DATA_OVERHEAD);
  drive_replay_window(body);

  zeq::ReplayWindow window;
  if (window.may_accept(header.counter) && zeq::open_data_message(session.opener, msg.data(), msg.size()) &&
      window.accept(header.counter))
    deliver(msg.data() + zeq::wire::DATA_OVERHEAD, msg.size() - zeq::wire::DATA_OVERHEAD);

  // The body as a plaintext: sealed and opened again, then delivered.
  zeq::Bytes sealed(zeq::wire::DATA_OVERHEAD + body.size());
  std::memcpy(sealed.data() + zeq::wire::DATA_OVERHEAD, body.data(), body.size());
  auto n = zeq::seal_data_message(session.sealer, header.receiver_index, zeq::fuzz::VECTOR_ZEQOND, header.counter,
                                  sealed.data(), body.size());
  if (!n || *n != sealed.size()) __builtin_trap();
  if (!zeq::open_data_message(session.opener, sealed.data(), sealed.size())) __builtin_trap();
  if (std::memcmp(sealed.data() + zeq::wire::DATA_OVERHEAD, body.data(), body.size()) != 0) __builtin_trap();
  deliver(sealed.data() + zeq::wire::DATA_OVERHEAD, body.size());
  return 0;
}
