// Sending a batch of sealed datagrams. With UDP GSO, a run of datagrams to
// one address, all of one size but the last (which may be shorter), goes
// out as one sendmsg that the kernel cuts up (UDP_SEGMENT), and several runs
// go in one sendmmsg: one syscall and one route lookup for up to 64
// datagrams. Without it, one mmsghdr per datagram.
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <cerrno>
#include <algorithm>
#include <array>
#include <cstring>

#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "mesh/data_worker.hpp"

namespace zeq {

namespace {

bool same_address(const sockaddr_in6& a, const sockaddr_in6& b) {
  return a.sin6_port == b.sin6_port && std::memcmp(&a.sin6_addr, &b.sin6_addr, sizeof a.sin6_addr) == 0 &&
         a.sin6_scope_id == b.sin6_scope_id;
}

void set_message(mmsghdr& m, sockaddr_in6* addr, iovec* iov, int iovcnt) {
  m.msg_hdr = {};
  m.msg_hdr.msg_name = addr;
  m.msg_hdr.msg_namelen = sizeof(sockaddr_in6);
  m.msg_hdr.msg_iov = iov;
  m.msg_hdr.msg_iovlen = size_t(iovcnt);
}

}  // namespace

void DataWorker::send_each(iovec* iovs, sockaddr_in6* addrs, int n) {
  for (int base = 0; base < n; base += SEND_SLOTS) {
    const int count = std::min(n - base, SEND_SLOTS);
    for (int i = 0; i < count; ++i) set_message(gso_msgs_[size_t(i)], &addrs[base + i], &iovs[base + i], 1);
    int sent = 0;
    while (sent < count) {
      int r = sendmmsg(socket_.fd(), gso_msgs_.data() + sent, unsigned(count - sent), 0);
      if (r <= 0) {
        // Skip the datagram the kernel refused (e.g. unreachable) and go on.
        counters_.drop(Drop::kUdpSend);
        ++sent;
        continue;
      }
      sent += r;
    }
  }
}

void DataWorker::send_datagrams(iovec* iovs, sockaddr_in6* addrs, int n) {
  if (!udp_gso_) return send_each(iovs, addrs, n);
  if (gso_max_datagram_ != GSO_NO_LIMIT && mono_now_us() >= gso_limit_until_us_) gso_max_datagram_ = GSO_NO_LIMIT;
  // Runs: [first, first + count) share an address and the first's size.
  std::array<int, SEND_SLOTS> first{}, count{};
  int runs = 0;
  for (int i = 0; i < n;) {
    const size_t size = iovs[i].iov_len;
    size_t total = size;
    int j = i + 1;
    if (size <= gso_max_datagram_) {
      while (j < n && j - i < MAX_GSO_SEGMENTS && iovs[j].iov_len <= size && total + iovs[j].iov_len <= MAX_GSO_BYTES &&
             same_address(addrs[j], addrs[i])) {
        total += iovs[j].iov_len;
        if (iovs[j++].iov_len < size) break;  // a shorter one ends the run
      }
    }
    mmsghdr& m = gso_msgs_[size_t(runs)];
    set_message(m, &addrs[i], &iovs[i], j - i);
    if (j - i > 1) {
      auto& buf = gso_cmsgs_[size_t(runs)];
      m.msg_hdr.msg_control = buf.data();
      m.msg_hdr.msg_controllen = buf.size();
      cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      const uint16_t segment = uint16_t(size);
      std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
    }
    first[size_t(runs)] = i;
    count[size_t(runs)] = j - i;
    ++runs;
    i = j;
  }
  int sent = 0;
  while (sent < runs) {
    int r = sendmmsg(socket_.fd(), gso_msgs_.data() + sent, unsigned(runs - sent), 0);
    if (r > 0) {
      for (int k = sent; k < sent + r; ++k)
        if (count[size_t(k)] > 1) {
          counters_.count(Offload::kUdpGsoSends);
          counters_.count(Offload::kUdpGsoDatagrams, uint64_t(count[size_t(k)]));
        }
      sent += r;
      continue;
    }
    const int err = errno;
    const int f = first[size_t(sent)], c = count[size_t(sent)];
    if (c > 1 && (err == EIO || err == EINVAL || err == EMSGSIZE)) {
      // EIO: the device cannot checksum for GSO at all, so GSO stays off.
      // EINVAL/EMSGSIZE: datagrams of this size do not fit the route's MTU
      // in one piece, which GSO requires; smaller runs may still go.
      counters_.count(Offload::kUdpGsoRetries);
      if (err == EIO) {
        udp_gso_ = false;
        spdlog::warn("data worker {}: the kernel refused a UDP GSO send ({}); sending one datagram per message from now on",
                     id_, std::strerror(err));
      } else {
        gso_max_datagram_ = iovs[f].iov_len - 1;
        gso_limit_until_us_ = mono_now_us() + GSO_LIMIT_LIFETIME_US;
      }
      // Sent one by one, they are fragmented by the kernel as before.
      send_each(&iovs[f], &addrs[f], c);
      // gso_msgs_ was reused for that; the runs after it are rebuilt.
      send_datagrams(iovs + f + c, addrs + f + c, n - f - c);
      return;
    }
    // The run the kernel refused (unreachable, ...), every datagram of it.
    counters_.drops[size_t(Drop::kUdpSend)].fetch_add(uint64_t(c), std::memory_order_relaxed);
    ++sent;
  }
}

}  // namespace zeq
