// Fuzz target: an in-tunnel control message (plaintext 0x01, a type, a body)
// as the peer's side reads it after the data message opened: the DNS offer
// and the exit offer. A parsed offer must encode back to exactly the bytes it
// was read from (the rest is the data message's zero padding).
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "protocol/control_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zeq::ByteSpan plaintext(data, size);
  (void)zeq::control_type(plaintext);
  if (auto exit = zeq::parse_exit_offer(plaintext)) {
    if (exit->families > (zeq::EXIT_IPV4 | zeq::EXIT_IPV6)) __builtin_trap();
    zeq::Bytes again = zeq::encode_exit_offer(*exit);
    if (again.size() > size || !std::equal(again.begin(), again.end(), data)) __builtin_trap();
  }
  auto offer = zeq::parse_dns_offer(plaintext);
  if (!offer) return 0;
  if (offer->resolvers.empty() || offer->resolvers.size() > zeq::DNS_OFFER_MAX) __builtin_trap();
  for (const auto& r : offer->resolvers) (void)r.to_string();
  zeq::Bytes again = zeq::encode_dns_offer(*offer);
  if (again.size() > size || !std::equal(again.begin(), again.end(), data)) __builtin_trap();
  return 0;
}
