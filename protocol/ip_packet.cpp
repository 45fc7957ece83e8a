#include "protocol/ip_packet.hpp"

namespace zeq {

size_t ip_packet_length(ByteSpan b) {
  if (b.empty()) return 0;
  switch (b[0] >> 4) {
    case 4: {
      if (b.size() < IPV4_HEADER_MIN) return 0;
      size_t ihl = size_t(b[0] & 0x0f) * 4;  // header length in 32-bit words
      size_t total = load_be16(b.data() + 2);
      if (ihl < IPV4_HEADER_MIN || total < ihl || total > b.size()) return 0;
      return total;
    }
    case 6: {
      if (b.size() < IPV6_HEADER_SIZE) return 0;
      size_t total = IPV6_HEADER_SIZE + size_t(load_be16(b.data() + 4));  // payload length excludes the header
      return total > b.size() ? 0 : total;
    }
    default:
      return 0;
  }
}

}  // namespace zeq
