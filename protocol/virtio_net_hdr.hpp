// The virtio-net header a TUN opened with IFF_VNET_HDR puts before every
// packet it hands over, and expects before every packet written to it: it
// carries the offload state (checksum still to complete, TSO/USO segment
// size), so one read or write can move a 64 KB super-packet instead of one
// MTU-sized packet. 10 bytes in host byte order: a TUN uses the legacy
// native-endian layout unless TUNSETVNETLE is set, and we do not set it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace zeq {

inline constexpr size_t VNET_HDR_LEN = 10;

struct VirtioNetHdr {
  uint8_t flags = 0;
  uint8_t gso_type = 0;
  uint16_t hdr_len = 0, gso_size = 0, csum_start = 0, csum_offset = 0;
};

// The values of <linux/virtio_net.h> (VIRTIO_NET_HDR_F_*, _GSO_*), which
// C++ cannot include: it names a struct field `class`.
namespace vnet {
inline constexpr uint8_t kNeedsCsum = 1, kDataValid = 2;
inline constexpr uint8_t kGsoNone = 0, kGsoTcpV4 = 1, kGsoUdp = 3, kGsoTcpV6 = 4, kGsoUdpL4 = 5, kGsoEcn = 0x80;
}  // namespace vnet

// Field by field with memcpy: the header sits wherever the read buffer puts
// it, with no alignment promised.
inline VirtioNetHdr read_vnet_hdr(const uint8_t* p) {
  VirtioNetHdr h;
  h.flags = p[0];
  h.gso_type = p[1];
  std::memcpy(&h.hdr_len, p + 2, 2);
  std::memcpy(&h.gso_size, p + 4, 2);
  std::memcpy(&h.csum_start, p + 6, 2);
  std::memcpy(&h.csum_offset, p + 8, 2);
  return h;
}

inline void write_vnet_hdr(uint8_t* p, const VirtioNetHdr& h) {
  p[0] = h.flags;
  p[1] = h.gso_type;
  std::memcpy(p + 2, &h.hdr_len, 2);
  std::memcpy(p + 4, &h.gso_size, 2);
  std::memcpy(p + 6, &h.csum_start, 2);
  std::memcpy(p + 8, &h.csum_offset, 2);
}

}  // namespace zeq
