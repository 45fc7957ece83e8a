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

Result<TunDevice> TunDevice::create(const std::string& name, int queues) {
  TunDevice dev;
  dev.name_ = name;
  if (if_nametoindex(name.c_str()) != 0) {
    return Status::error("interface " + name + " already exists; remove it (`ip link del " + name +
                         "`) or choose another interface.name");
  }
  for (int i = 0; i < queues; ++i) {
    int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      int e = errno;
      return Status::error(std::string("cannot open /dev/net/tun: ") + std::strerror(e) +
                           (e == EACCES || e == EPERM ? "; run zeqvpnd as root or with CAP_NET_ADMIN"
                                                      : "; load the tun module (`modprobe tun`)"));
    }
    dev.fds_.push_back(fd);
    ifreq ifr{};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE;
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
      int e = errno;
      return Status::error("cannot create TUN interface " + name + ": " + std::strerror(e) +
                           (e == EPERM ? "; run zeqvpnd as root or with CAP_NET_ADMIN" : ""));
    }
  }
  dev.ifindex_ = int(if_nametoindex(name.c_str()));
  if (dev.ifindex_ == 0) return Status::error("TUN interface " + name + " vanished right after creation");
  return dev;
}

TunDevice::TunDevice(TunDevice&& o) noexcept
    : name_(std::move(o.name_)), ifindex_(o.ifindex_), fds_(std::move(o.fds_)), far_ends_(std::move(o.far_ends_)) {
  o.fds_.clear();
  o.far_ends_.clear();
}

Result<TunDevice> TunDevice::detached(int queues) {
  TunDevice d;
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
