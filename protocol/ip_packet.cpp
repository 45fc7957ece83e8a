#include "protocol/ip_packet.hpp"

namespace zeq {

size_t ip_packet_length(ByteSpan b) {
  if (b.empty()) return 0;
  switch (b[0] >> 4) {
    case 4: {
      if (b.size() < 20) return 0;
      size_t ihl = size_t(b[0] & 0x0f) * 4;
      size_t total = load_be16(b.data() + 2);
      if (ihl < 20 || total < ihl || total > b.size()) return 0;
      return total;
    }
    case 6: {
      if (b.size() < 40) return 0;
      size_t total = 40 + size_t(load_be16(b.data() + 4));
      return total > b.size() ? 0 : total;
    }
    default:
      return 0;
  }
}

}  // namespace zeq
