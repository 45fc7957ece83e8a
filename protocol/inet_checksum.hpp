// The Internet checksum (RFC 1071) that IPv4 headers, TCP and UDP carry.
// The offload code (GsoSegmenter, TcpCoalescer) computes it for every
// segment it writes, so it is summed many bytes at a time and folded once.
//
// Byte order: every sum here is in MEMORY ORDER, i.e. the ones'-complement
// sum of the 16-bit words as a plain uint16_t load (memcpy) of the packet's
// bytes sees them. On a little-endian host that is the byte-swapped value of
// the RFC's big-endian sum; RFC 1071 (section 2 B) shows the ones'-complement
// sum commutes with that swap. So a checksum is stored with
//   uint16_t c = ~checksum_fold(sum); std::memcpy(field, &c, 2);
// and a field read with memcpy can be added to a sum as it is. Compare with
// a big-endian reference through a memcpy, never through load_be16.
#pragma once

#include <cstddef>
#include <cstdint>

namespace zeq {

// Adds data to a running ones'-complement sum and returns the new sum, not
// yet folded (any uint32_t is a valid running sum, so results chain:
// checksum_partial(b, nb, checksum_partial(a, na)) sums a then b). Only the
// LAST chunk of a chain may have an odd length: an odd chunk's final byte is
// summed as the high-order (first) byte of a word padded with zero, so a
// chunk after it would be summed shifted by one byte.
uint32_t checksum_partial(const uint8_t* data, size_t len, uint32_t sum = 0);

// The sum folded to 16 bits, NOT complemented (store ~checksum_fold(...)).
// A sum that is zero in ones'-complement arithmetic folds to 0 only if it
// was 0 to begin with, else to 0xFFFF.
inline uint16_t checksum_fold(uint32_t sum) {
  sum = (sum & 0xFFFF) + (sum >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  return uint16_t(sum);
}

// The sum of the TCP/UDP pseudo-header (RFC 793 / RFC 8200 8.1): addresses,
// protocol number and L4 length (header + payload). family is 4 or 6; src
// and dst are 4 or 16 bytes. Unfolded, memory order, chainable.
uint32_t pseudo_header_sum(int family, const uint8_t* src, const uint8_t* dst, uint8_t protocol,
                           uint32_t l4_length);

}  // namespace zeq
