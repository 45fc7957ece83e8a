#include "tun/address_monitor.hpp"

#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include "tun/netlink_handles.hpp"

namespace zeq {

struct AddressMonitor::Impl {
  netlink::Sock sock;
  int ignore_ifindex = 0;
  bool changed = false;
};

namespace {

// Only the header's interface index is read: what changed is found out by
// the caller (it reads the addresses again), so a message libnl cannot
// parse still counts as a change.
int on_message(nl_msg* msg, void* arg) {
  auto* impl = static_cast<AddressMonitor::Impl*>(arg);
  nlmsghdr* h = nlmsg_hdr(msg);
  int ifindex = 0;
  switch (h->nlmsg_type) {
    case RTM_NEWADDR:
    case RTM_DELADDR:
      if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(ifaddrmsg))) ifindex = int(static_cast<ifaddrmsg*>(nlmsg_data(h))->ifa_index);
      break;
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
      if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(rtmsg)))
        if (nlattr* oif = nlmsg_find_attr(h, sizeof(rtmsg), RTA_OIF); oif && nla_len(oif) >= 4)
          ifindex = int(nla_get_u32(oif));
      break;
    default:
      return NL_OK;
  }
  if (ifindex == 0 || ifindex != impl->ignore_ifindex) impl->changed = true;
  return NL_OK;
}

}  // namespace

AddressMonitor::AddressMonitor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AddressMonitor::~AddressMonitor() = default;

Result<std::unique_ptr<AddressMonitor>> AddressMonitor::open(int ignore_ifindex) {
  auto impl = std::make_unique<Impl>();
  impl->ignore_ifindex = ignore_ifindex;
  impl->sock.reset(nl_socket_alloc());
  if (!impl->sock) return Status::error("address monitor: out of memory");
  nl_sock* s = impl->sock.get();
  nl_socket_disable_seq_check(s);
  nl_socket_modify_cb(s, NL_CB_VALID, NL_CB_CUSTOM, on_message, impl.get());
  if (int err = nl_connect(s, NETLINK_ROUTE); err < 0) return netlink::error("address monitor: netlink connect", err);
  if (int err = nl_socket_add_memberships(s, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
                                          RTNLGRP_IPV6_ROUTE, 0);
      err < 0)
    return netlink::error("address monitor: joining the address and route groups", err);
  if (int err = nl_socket_set_nonblocking(s); err < 0) return netlink::error("address monitor: non-blocking", err);
  return std::unique_ptr<AddressMonitor>(new AddressMonitor(std::move(impl)));
}

int AddressMonitor::fd() const { return nl_socket_get_fd(impl_->sock.get()); }

bool AddressMonitor::drain() {
  impl_->changed = false;
  // Bounded: a flood of events is read in slices, the loop comes back.
  nl_cb* cb = nl_socket_get_cb(impl_->sock.get());  // a reference of ours
  for (int i = 0; i < 64; ++i)
    if (nl_recvmsgs_report(impl_->sock.get(), cb) <= 0) break;  // 0: nothing more (EAGAIN)
  nl_cb_put(cb);
  return impl_->changed;
}

}  // namespace zeq
