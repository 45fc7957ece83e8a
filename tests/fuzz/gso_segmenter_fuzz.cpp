// Fuzz target: what a TUN with IFF_VNET_HDR hands the data plane, through
// GsoSegmenter (protocol/gso_segmenter.hpp). The first VNET_HDR_LEN bytes
// are the virtio-net header, the rest the packet. Properties, trapped when
// broken:
//  - a refused packet has no segments; an accepted one has >= 1, and
//    next() writes exactly that many, none past max_segment_size() (the
//    buffer has exactly that size, so ASan sees a byte more);
//  - every segment is one IP packet of exactly its length; a GSO segment's
//    IPv4 header checksum and TCP/UDP checksum verify;
//  - the segments' payloads, joined, are the packet's payload.
// The seed corpus (corpus/gso_segmenter/) holds TSO4 with IP and TCP
// options, TSO6 with extension headers, USO4/6 and a NEEDS_CSUM packet.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/bytes.hpp"
#include "protocol/gso_segmenter.hpp"
#include "protocol/inet_checksum.hpp"
#include "protocol/ip_packet.hpp"
#include "protocol/virtio_net_hdr.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// The TCP/UDP checksum of a segment whose L4 header is at l4_at verifies.
void check_l4_checksum(const uint8_t* seg, size_t len, size_t l4_at, uint8_t protocol) {
  int family = seg[0] >> 4;
  const uint8_t* src = seg + (family == 4 ? 12 : 8);
  const uint8_t* dst = src + (family == 4 ? 4 : 16);
  uint32_t sum = zeq::pseudo_header_sum(family, src, dst, protocol, uint32_t(len - l4_at));
  check(zeq::checksum_fold(zeq::checksum_partial(seg + l4_at, len - l4_at, sum)) == 0xFFFF);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < zeq::VNET_HDR_LEN) return 0;
  zeq::VirtioNetHdr vh = zeq::read_vnet_hdr(data);
  zeq::Bytes packet(data + zeq::VNET_HDR_LEN, data + size);  // exactly sized for ASan
  zeq::GsoSegmenter segmenter;
  if (!segmenter.reset(vh, packet.data(), packet.size())) {
    check(segmenter.segments() == 0);
    return 0;
  }
  check(segmenter.segments() >= 1);
  size_t max = segmenter.max_segment_size();
  check(max > 0 && max <= packet.size());
  zeq::Bytes out(max);
  uint8_t gso_type = vh.gso_type & uint8_t(~zeq::vnet::kGsoEcn);
  bool gso = gso_type != zeq::vnet::kGsoNone;

  int count = 0;
  size_t header_len = 0, payload_seen = 0;
  while (size_t len = segmenter.next(out.data(), out.size())) {
    check(len <= max);
    check(zeq::ip_packet_length(zeq::ByteSpan(out.data(), len)) == len);
    if (gso) {
      int family = out[0] >> 4;
      if (family == 4) {
        size_t ihl = size_t(out[0] & 0x0F) * 4;
        check(zeq::checksum_fold(zeq::checksum_partial(out.data(), ihl)) == 0xFFFF);
      }
      // The segment's headers are the packet's (but for lengths, ids, seq,
      // flags and checksums), so its L4 header is where the packet's is.
      size_t l4_at = family == 4 ? size_t(out[0] & 0x0F) * 4 : 0;
      if (family == 6) {
        // Walk as the segmenter did; its acceptance says the walk fits.
        uint8_t next = out[6];
        l4_at = 40;
        while (next == 0 || next == 43 || next == 60) {
          next = out[l4_at];
          l4_at += (size_t(out[l4_at + 1]) + 1) * 8;
        }
      }
      uint8_t protocol = gso_type == zeq::vnet::kGsoUdpL4 ? 17 : 6;
      size_t l4_header = protocol == 17 ? 8 : size_t(out[l4_at + 12] >> 4) * 4;
      header_len = l4_at + l4_header;
      check(header_len <= len);
      check_l4_checksum(out.data(), len, l4_at, protocol);
      check(std::memcmp(out.data() + header_len, packet.data() + header_len + payload_seen, len - header_len) == 0);
      payload_seen += len - header_len;
    } else {
      check(len == packet.size());
    }
    ++count;
  }
  check(count == segmenter.segments() && segmenter.remaining() == 0);
  if (gso) check(header_len + payload_seen == packet.size());
  return 0;
}
