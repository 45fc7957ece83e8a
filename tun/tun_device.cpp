#include "tun/tun_device.hpp"

#include <fcntl.h>
#include <net/if.h>
// after net/if.h, which defines the IFF_* flags linux/if.h would redefine
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace zeq {

namespace {
// Linux 6.2 added UDP segmentation offload to TUN; Debian 12's headers
// (6.1) do not name it yet.
#ifndef TUN_F_USO4
constexpr unsigned TUN_F_USO4 = 0x20;
#endif
#ifndef TUN_F_USO6
constexpr unsigned TUN_F_USO6 = 0x40;
#endif
}  // namespace

Status TunDevice::open_queues(int queues, short flags) {
  for (int i = 0; i < queues; ++i) {
    int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      int e = errno;
      return Status::error(std::string("cannot open /dev/net/tun: ") + std::strerror(e) +
                           (e == EACCES || e == EPERM ? "; run zeqvpnd as root or with CAP_NET_ADMIN"
                                                      : "; load the tun module (`modprobe tun`)"));
    }
    fds_.push_back(fd);
    ifreq ifr{};
    ifr.ifr_flags = flags;
    std::strncpy(ifr.ifr_name, name_.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
      int e = errno;
      return Status::error("cannot create TUN interface " + name_ + ": " + std::strerror(e) +
                           (e == EPERM ? "; run zeqvpnd as root or with CAP_NET_ADMIN" : ""));
    }
  }
  return Status::ok();
}

// The checksum offload is what the segmentation offloads stand on; USO is
// asked for first and dropped when the kernel does not know it.
Result<std::string> TunDevice::enable_offloads() {
  const unsigned tso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  if (ioctl(fds_.front(), TUNSETOFFLOAD, tso | TUN_F_USO4 | TUN_F_USO6) == 0) return std::string("tso4 tso6 uso4 uso6");
  if (ioctl(fds_.front(), TUNSETOFFLOAD, tso) == 0) return std::string("tso4 tso6");
  return Status::error(std::string("TUNSETOFFLOAD: ") + std::strerror(errno));
}

Result<TunDevice> TunDevice::create(const std::string& name, int queues, bool offloads) {
  TunDevice dev;
  dev.name_ = name;
  if (if_nametoindex(name.c_str()) != 0) {
    return Status::error("interface " + name + " already exists; remove it (`ip link del " + name +
                         "`) or choose another interface.name");
  }
  const short plain = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE;
  if (!offloads) {
    dev.offload_summary_ = "off (interface.offloads: off)";
  } else {
    // The header size stays the kernel's default, sizeof(virtio_net_hdr).
    Status opened = dev.open_queues(1, short(plain | IFF_VNET_HDR));
    if (!opened) return opened;
    auto taken = dev.enable_offloads();
    if (taken) {
      if (Status s = dev.open_queues(queues - 1, short(plain | IFF_VNET_HDR)); !s) return s;
      dev.vnet_hdr_ = true;
      dev.offload_summary_ = taken.value();
    } else {
      // Start again without the header; the device goes with its last queue.
      dev.offload_summary_ = "off (kernel refused: " + taken.status().message() + ")";
      dev.close();
    }
  }
  if (!dev.vnet_hdr_)
    if (Status s = dev.open_queues(queues, plain); !s) return s;
  dev.ifindex_ = int(if_nametoindex(name.c_str()));
  if (dev.ifindex_ == 0) return Status::error("TUN interface " + name + " vanished right after creation");
  return dev;
}

TunDevice::TunDevice(TunDevice&& o) noexcept
    : name_(std::move(o.name_)), ifindex_(o.ifindex_), fds_(std::move(o.fds_)), far_ends_(std::move(o.far_ends_)),
      vnet_hdr_(o.vnet_hdr_), offload_summary_(std::move(o.offload_summary_)) {
  o.fds_.clear();
  o.far_ends_.clear();
}

Result<TunDevice> TunDevice::detached(int queues) {
  TunDevice d;
  d.offload_summary_ = "off (no interface: relay role)";
  for (int i = 0; i < queues; ++i) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0)
      return Status::error(std::string("socketpair for a relay's worker: ") + std::strerror(errno) +
                           "; raise the open-file limit (LimitNOFILE=)");
    d.fds_.push_back(pair[0]);
    d.far_ends_.push_back(pair[1]);
  }
  return d;
}

TunDevice::~TunDevice() { close(); }

void TunDevice::close() {
  for (int fd : fds_) ::close(fd);
  for (int fd : far_ends_) ::close(fd);
  fds_.clear();
  far_ends_.clear();
}

}  // namespace zeq
