// Splits what a TUN with IFF_VNET_HDR hands over (one IP packet with its
// virtio-net header, possibly a TSO4/TSO6/USO super-packet of up to 64 KB)
// into wire-ready IP packets, one at a time, so the caller can seal each
// into its own buffer. This is the kernel's GSO done in user space: the
// kernel skips segmenting (and checksumming) on its side, and we touch each
// byte once anyway while copying it into the send buffer.
//
// Rules: gso_type NONE → the packet as it is, its checksum completed when
// NEEDS_CSUM is set. TCPV4/TCPV6 → MSS-sized TCP segments; UDP_L4 (USO) →
// gso_size datagrams. The ECN bit of gso_type is ignored. UFO (kGsoUdp) and
// unknown types are refused. Headers are read from the packet itself, never
// from hdr_len (its value differs between kernel paths).
#pragma once

#include <cstddef>
#include <cstdint>

#include "protocol/virtio_net_hdr.hpp"

namespace zeq {

class GsoSegmenter {
 public:
  // False when the header and packet disagree or the packet is malformed
  // (the caller drops and counts it); segments() is then 0. Nothing is
  // copied yet: packet must stay valid and unchanged until the last next().
  bool reset(const VirtioNetHdr& vh, const uint8_t* packet, size_t len);
  // How many next() will produce (>= 1 after a successful reset).
  int segments() const { return segments_; }
  // How many are still to come.
  int remaining() const { return segments_ - next_index_; }
  // The largest segment: headers + gso_size (or len when not GSO, or when
  // the payload fits in one segment). A buffer of this size fits any.
  size_t max_segment_size() const;
  // Writes the next segment, a complete IP packet with its lengths and
  // checksums right, to out (room bytes) and returns its length. Returns 0
  // when all were written, or when room is too small for the next segment:
  // then it writes nothing and does not advance (check remaining()).
  size_t next(uint8_t* out, size_t room);

 private:
  enum class Kind : uint8_t { kWhole, kTcp, kUdp };

  size_t write_whole(uint8_t* out) const;
  size_t write_segment(uint8_t* out, size_t payload_at, size_t payload_len, bool last) const;

  const uint8_t* packet_ = nullptr;
  size_t len_ = 0;
  Kind kind_ = Kind::kWhole;
  int family_ = 0;
  bool complete_checksum_ = false;  // kWhole with NEEDS_CSUM
  uint16_t csum_start_ = 0, csum_offset_ = 0;
  size_t l3_len_ = 0;      // IP header, IPv4 options and IPv6 extension headers
  size_t header_len_ = 0;  // l3_len_ + TCP/UDP header: copied into every segment
  size_t gso_size_ = 0;
  int segments_ = 0;
  int next_index_ = 0;
};

}  // namespace zeq
