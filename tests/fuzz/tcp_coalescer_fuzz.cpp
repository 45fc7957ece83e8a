// Fuzz target: a received batch of opened packets through TcpCoalescer
// (protocol/tcp_coalescer.hpp), as the data plane writes them to its TUN.
// Input: byte 0 sets the capacity (1..64); then packets, each a 2-byte
// big-endian length and that many bytes (the last one cut at the end).
// Each packet sits in a buffer of its own with exactly VNET_HDR_LEN bytes
// of room before it, so ASan sees any touch outside. Properties, trapped
// when broken:
//  - every offered packet is written exactly once, and the writes come in
//    the order of their first packets;
//  - a write of one packet has a zero virtio-net header and the packet
//    unchanged;
//  - a write of several is a super-packet that GsoSegmenter accepts and
//    splits into as many segments, each the packet offered at that place
//    but for the window (the group's last), the IPv4 id of DF packets, and
//    the checksums (recomputed; the offered ones may be anything).
// The seed corpus (corpus/tcp_coalescer/) holds segment runs of IPv4 and
// IPv6 flows, interleaved, with a UDP packet, a FIN and a gap.
#include <sys/uio.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "core/bytes.hpp"
#include "protocol/gso_segmenter.hpp"
#include "protocol/tcp_coalescer.hpp"
#include "protocol/virtio_net_hdr.hpp"

namespace {

using zeq::Bytes;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Offered {
  std::unique_ptr<uint8_t[]> buffer;  // VNET_HDR_LEN + len
  size_t len = 0;
  Bytes original;
  bool written = false;
  uint8_t* data() const { return buffer.get() + zeq::VNET_HDR_LEN; }
};

// The bytes that may differ between an offered segment and the one split
// back out of its super-packet, zeroed.
Bytes normalized(Bytes p, size_t l3_len) {
  if (p.size() >= 20 && p[0] >> 4 == 4) {
    if (p[6] & 0x40) p[4] = p[5] = 0;
    p[10] = p[11] = 0;
  }
  if (p.size() >= l3_len + 18) std::fill(p.begin() + long(l3_len + 14), p.begin() + long(l3_len + 18), 0);
  return p;
}

class Run {
 public:
  explicit Run(int capacity) : coalescer_(capacity) {}

  void offer(const uint8_t* bytes, size_t len) {
    Offered o;
    o.buffer.reset(new uint8_t[zeq::VNET_HDR_LEN + len]);
    std::memcpy(o.buffer.get() + zeq::VNET_HDR_LEN, bytes, len);
    o.len = len;
    o.original.assign(bytes, bytes + len);
    batch_.push_back(std::move(o));
    if (!coalescer_.add(batch_.back().data(), len)) {
      Offered again = std::move(batch_.back());
      batch_.pop_back();
      flush();
      batch_.push_back(std::move(again));
      check(coalescer_.add(batch_.back().data(), len));
    }
  }

  void flush() {
    last_first_ = -1;
    coalescer_.flush([this](const iovec* iov, int iovcnt) { on_write(iov, iovcnt); });
    for (const auto& o : batch_) check(o.written);
    batch_.clear();
  }

 private:
  // Which offered packet's buffer starts at p (a write's iov[0]), or -1.
  int owner_of_buffer(const void* p) const {
    for (size_t i = 0; i < batch_.size(); ++i)
      if (p == batch_[i].buffer.get()) return int(i);
    return -1;
  }
  // Which offered packet's bytes hold p (a joined payload's start), or -1.
  int owner(const void* p) const {
    auto* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < batch_.size(); ++i)
      if (b >= batch_[i].data() && b < batch_[i].data() + batch_[i].len) return int(i);
    return -1;
  }

  void on_write(const iovec* iov, int iovcnt) {
    check(iovcnt >= 1);
    int first = owner_of_buffer(iov[0].iov_base);
    check(first > last_first_);
    last_first_ = first;
    Offered& head = batch_[size_t(first)];
    check(iov[0].iov_len == zeq::VNET_HDR_LEN + head.len);
    check(!head.written);
    head.written = true;
    zeq::VirtioNetHdr vh = zeq::read_vnet_hdr(head.buffer.get());
    if (iovcnt == 1) {
      check(vh.flags == 0 && vh.gso_type == 0 && vh.gso_size == 0 && vh.hdr_len == 0 && vh.csum_start == 0 &&
            vh.csum_offset == 0);
      check(std::equal(head.original.begin(), head.original.end(), head.data()));  // unchanged
      return;
    }
    Bytes super(head.data(), head.data() + head.len);
    std::vector<int> members = {first};
    for (int k = 1; k < iovcnt; ++k) {
      auto* b = static_cast<const uint8_t*>(iov[k].iov_base);
      int m = owner(b);
      check(m > first && !batch_[size_t(m)].written);
      check(b + iov[k].iov_len == batch_[size_t(m)].data() + batch_[size_t(m)].len);  // the payload runs to the end
      batch_[size_t(m)].written = true;
      members.push_back(m);
      super.insert(super.end(), b, b + iov[k].iov_len);
    }
    zeq::GsoSegmenter segmenter;
    check(segmenter.reset(vh, super.data(), super.size()));
    check(segmenter.segments() == iovcnt);
    Bytes out(segmenter.max_segment_size());
    for (int k = 0; k < iovcnt; ++k) {
      size_t len = segmenter.next(out.data(), out.size());
      const Bytes& want = batch_[size_t(members[size_t(k)])].original;
      check(len == want.size());
      check(normalized(Bytes(out.begin(), out.begin() + long(len)), vh.csum_start) == normalized(want, vh.csum_start));
    }
  }

  zeq::TcpCoalescer coalescer_;
  std::vector<Offered> batch_;
  int last_first_ = -1;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Run run(1 + data[0] % 64);
  size_t at = 1;
  while (at + 2 <= size) {
    size_t len = std::min<size_t>(zeq::load_be16(data + at), size - at - 2);
    run.offer(data + at + 2, len);
    at += 2 + len;
  }
  run.flush();
  return 0;
}
