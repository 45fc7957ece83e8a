#include "tun/address_monitor.hpp"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "tun/netlink_handles.hpp"

namespace zeq {

struct AddressMonitor::Impl {
  netlink::Sock sock;
  int ignore_ifindex = 0;
  bool changed = false;
  bool removed = false;  // since the last underlay_changed(): see on_message
  std::vector<std::string> underlay;  // the last snapshot (see underlay_snapshot)
  bool underlay_known = false;
};

namespace {

// Only the headers are read (interface, scope, route prefix length and
// table): what changed is found out by underlay_changed(), which reads the
// state again. Counted: address events, and route events for default routes
// (a route to some other prefix does not move the node, and a host with a
// large, churning table must not make it dump its routes on every flap),
// except the tunnel's own and the local table's. A removed address or
// default route is remembered as a move even when a burst puts the same one
// back (a flush and re-add, a lease rebound on another network with the same
// numbers): the NAT in front may well have changed.
int on_message(nl_msg* msg, void* arg) {
  auto* impl = static_cast<AddressMonitor::Impl*>(arg);
  nlmsghdr* h = nlmsg_hdr(msg);
  int ifindex = 0;
  bool usable = true;  // a removal of this would be a move
  switch (h->nlmsg_type) {
    case RTM_NEWADDR:
    case RTM_DELADDR: {
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifaddrmsg))) break;  // unparsable: a change
      const auto* ifa = static_cast<const ifaddrmsg*>(nlmsg_data(h));
      ifindex = int(ifa->ifa_index);
      usable = ifa->ifa_scope < RT_SCOPE_LINK;
      break;
    }
    case RTM_NEWROUTE:
    case RTM_DELROUTE: {
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg))) break;
      const auto* rt = static_cast<const rtmsg*>(nlmsg_data(h));
      if (rt->rtm_dst_len != 0 || rt->rtm_table == RT_TABLE_LOCAL) return NL_OK;
      if (nlattr* oif = nlmsg_find_attr(h, sizeof(rtmsg), RTA_OIF); oif && nla_len(oif) >= 4)
        ifindex = int(nla_get_u32(oif));
      break;
    }
    default:
      return NL_OK;
  }
  if (ifindex != 0 && ifindex == impl->ignore_ifindex) return NL_OK;
  impl->changed = true;
  if (usable && (h->nlmsg_type == RTM_DELADDR || h->nlmsg_type == RTM_DELROUTE)) impl->removed = true;
  return NL_OK;
}

std::string addr_text(nl_addr* a) {
  char buf[INET6_ADDRSTRLEN + 8];
  return a ? nl_addr2str(a, buf, sizeof buf) : "-";
}

// What the node's paths depend on, one line per item, sorted: the usable
// addresses of every interface but the tunnel (global and site scope; not
// link-local or host scope, not tentative, failed DAD or deprecated: the
// kernel picks no new source address from those), with their point-to-point
// peers, and the unicast default routes of every table but the local one
// (gateway or via, preferred source, interface, weight, dead or link-down
// next hops, metric), except those into the tunnel (the exit's table is
// ours). The kernel also announces what does not change these (a DHCP
// renewal refreshing a lifetime, an IPv6 link-local address finishing DAD,
// a container's veth); comparing snapshots keeps those from re-handshaking
// every session.
Result<std::vector<std::string>> underlay_snapshot(int ignore_ifindex) {
  auto sock = netlink::connect();
  if (!sock) return sock.status();
  std::vector<std::string> items;
  nl_cache* raw = nullptr;
  if (int err = rtnl_addr_alloc_cache(sock.value().get(), &raw); err < 0)
    return netlink::error("address monitor: reading addresses", err);
  std::unique_ptr<nl_cache, netlink::CacheFree> addrs(raw);
  for (nl_object* o = nl_cache_get_first(addrs.get()); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(a) == ignore_ifindex) continue;
    if (rtnl_addr_get_scope(a) >= RT_SCOPE_LINK) continue;
    if (rtnl_addr_get_flags(a) & (IFA_F_TENTATIVE | IFA_F_DADFAILED | IFA_F_DEPRECATED)) continue;
    items.push_back("addr " + std::to_string(rtnl_addr_get_ifindex(a)) + " " + addr_text(rtnl_addr_get_local(a)) +
                    " peer " + addr_text(rtnl_addr_get_peer(a)));
  }
  raw = nullptr;
  if (int err = rtnl_route_alloc_cache(sock.value().get(), AF_UNSPEC, 0, &raw); err < 0)
    return netlink::error("address monitor: reading routes", err);
  std::unique_ptr<nl_cache, netlink::CacheFree> routes(raw);
  for (nl_object* o = nl_cache_get_first(routes.get()); o; o = nl_cache_get_next(o)) {
    auto* r = reinterpret_cast<rtnl_route*>(o);
    if (rtnl_route_get_table(r) == RT_TABLE_LOCAL || rtnl_route_get_type(r) != RTN_UNICAST) continue;
    nl_addr* dst = rtnl_route_get_dst(r);
    if (dst && nl_addr_get_prefixlen(dst) != 0) continue;
    if (rtnl_route_get_nnexthops(r) > 0 && rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0)) == ignore_ifindex)
      continue;  // a default route into the tunnel is ours
    std::string line = "default table " + std::to_string(rtnl_route_get_table(r)) + " family " +
                       std::to_string(rtnl_route_get_family(r)) + " src " + addr_text(rtnl_route_get_pref_src(r));
    for (int i = 0; i < rtnl_route_get_nnexthops(r); ++i) {
      rtnl_nexthop* nh = rtnl_route_nexthop_n(r, i);
      nl_addr* via = rtnl_route_nh_get_gateway(nh);
      if (!via) via = rtnl_route_nh_get_via(nh);  // an IPv4 route through an IPv6 gateway
      line += " via " + addr_text(via) + " dev " + std::to_string(rtnl_route_nh_get_ifindex(nh)) + " weight " +
              std::to_string(rtnl_route_nh_get_weight(nh)) + " flags " +
              std::to_string(rtnl_route_nh_get_flags(nh) & (RTNH_F_DEAD | RTNH_F_LINKDOWN));
    }
    line += " metric " + std::to_string(rtnl_route_get_priority(r));
    items.push_back(std::move(line));
  }
  std::sort(items.begin(), items.end());
  return items;
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
  // The baseline, taken after joining the groups so no change falls between.
  if (auto snap = underlay_snapshot(ignore_ifindex)) {
    impl->underlay = std::move(snap.value());
    impl->underlay_known = true;
  } else {
    // Not fatal: the first event then counts as a move.
    spdlog::debug("{}", snap.message());
  }
  return std::unique_ptr<AddressMonitor>(new AddressMonitor(std::move(impl)));
}

int AddressMonitor::fd() const { return nl_socket_get_fd(impl_->sock.get()); }

bool AddressMonitor::drain() {
  impl_->changed = false;
  // Bounded: a flood of events is read in slices, the loop comes back.
  nl_cb* cb = nl_socket_get_cb(impl_->sock.get());  // a reference of ours
  for (int i = 0; i < 64; ++i) {
    const int n = nl_recvmsgs_report(impl_->sock.get(), cb);
    if (n == 0 || n == -NLE_AGAIN) break;  // nothing more
    if (n < 0) {
      // Lost messages (the socket overflowed: ENOBUFS) may have been a move.
      impl_->changed = true;
      impl_->removed = true;
      break;
    }
  }
  nl_cb_put(cb);
  return impl_->changed;
}

bool AddressMonitor::underlay_changed() {
  const bool removed = std::exchange(impl_->removed, false);
  auto snap = underlay_snapshot(impl_->ignore_ifindex);
  if (!snap) {
    impl_->underlay_known = false;
    return true;  // cannot tell: assume it did (a needless re-handshake beats a stale path)
  }
  const bool changed = removed || !impl_->underlay_known || snap.value() != impl_->underlay;
  impl_->underlay = std::move(snap.value());
  impl_->underlay_known = true;
  return changed;
}

}  // namespace zeq
