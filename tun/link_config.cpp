#include "tun/link_config.hpp"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <string>

#include "tun/netlink_handles.hpp"

namespace zeq {

namespace {

using namespace netlink;

std::unique_ptr<nl_addr, NlAddrFree> to_nl_addr(const IpPrefix& p) {
  std::unique_ptr<nl_addr, NlAddrFree> a(nl_addr_build(p.family == 4 ? AF_INET : AF_INET6, p.addr.data(),
                                                       p.address_bytes()));
  if (a) nl_addr_set_prefixlen(a.get(), p.length);
  return a;
}

std::unique_ptr<rtnl_route, RouteFree> link_route(const IpPrefix& p, int ifindex) {
  std::unique_ptr<rtnl_route, RouteFree> route(rtnl_route_alloc());
  auto dst = to_nl_addr(p.network());
  rtnl_route_set_family(route.get(), p.family == 4 ? AF_INET : AF_INET6);
  rtnl_route_set_dst(route.get(), dst.get());
  rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(route.get(), RTPROT_STATIC);
  rtnl_route_set_scope(route.get(), RT_SCOPE_LINK);
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  rtnl_route_nh_set_ifindex(nh, ifindex);
  rtnl_route_add_nexthop(route.get(), nh);  // the route owns nh now
  return route;
}

// Removals first, so a prefix that moves between peers never meets itself.
Status route_changes(nl_sock* sock, int ifindex, const std::string& name, const std::vector<IpPrefix>& add,
                     const std::vector<IpPrefix>& remove) {
  for (const auto& p : remove) {
    auto route = link_route(p, ifindex);
    if (int err = rtnl_route_delete(sock, route.get(), 0); err < 0 && err != -NLE_OBJ_NOTFOUND)
      return netlink::error("removing route " + p.network().to_string() + " via " + name, err);
  }
  for (const auto& p : add) {
    auto route = link_route(p, ifindex);
    if (int err = rtnl_route_add(sock, route.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0 && err != -NLE_EXIST)
      return netlink::error("adding route " + p.network().to_string() + " via " + name, err);
  }
  return Status::ok();
}

}  // namespace

Status configure_link(const LinkSettings& s) {
  auto connected = netlink::connect();
  if (!connected) return connected.status();
  Sock sock = std::move(connected.value());

  rtnl_link* raw = nullptr;
  if (int err = rtnl_link_get_kernel(sock.get(), s.ifindex, nullptr, &raw); err < 0)
    return netlink::error("netlink: reading link " + std::to_string(s.ifindex), err);
  std::unique_ptr<rtnl_link, LinkFree> link(raw);
  std::string name = rtnl_link_get_name(link.get()) ? rtnl_link_get_name(link.get()) : std::to_string(s.ifindex);

  {
    std::unique_ptr<rtnl_link, LinkFree> change(rtnl_link_alloc());
    rtnl_link_set_mtu(change.get(), unsigned(s.mtu));
    if (int err = rtnl_link_change(sock.get(), link.get(), change.get(), 0); err < 0)
      return netlink::error("setting MTU " + std::to_string(s.mtu) + " on " + name, err);
  }

  for (const auto& p : s.addresses) {
    std::unique_ptr<rtnl_addr, AddrFree> addr(rtnl_addr_alloc());
    auto local = to_nl_addr(p);
    rtnl_addr_set_ifindex(addr.get(), s.ifindex);
    rtnl_addr_set_local(addr.get(), local.get());
    // A TUN link has no neighbours to collide with: skip IPv6 duplicate
    // address detection so the address is usable at once.
    if (p.family == 6) rtnl_addr_set_flags(addr.get(), IFA_F_NODAD);
    if (int err = rtnl_addr_add(sock.get(), addr.get(), 0); err < 0 && err != -NLE_EXIST)
      return netlink::error("adding address " + p.to_string() + " to " + name, err);
  }

  {
    std::unique_ptr<rtnl_link, LinkFree> change(rtnl_link_alloc());
    rtnl_link_set_flags(change.get(), IFF_UP);
    if (int err = rtnl_link_change(sock.get(), link.get(), change.get(), 0); err < 0)
      return netlink::error("bringing " + name + " up", err);
  }

  return route_changes(sock.get(), s.ifindex, name, s.routes, {});
}

Status change_routes(int ifindex, const std::vector<IpPrefix>& add, const std::vector<IpPrefix>& remove) {
  auto connected = netlink::connect();
  if (!connected) return connected.status();
  Sock sock = std::move(connected.value());
  return route_changes(sock.get(), ifindex, "interface " + std::to_string(ifindex), add, remove);
}

}  // namespace zeq
