// libnl's objects owned by RAII handles, the connected rtnetlink socket and
// the error text every netlink caller in tun/ gives. Private to tun/.
#pragma once

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

#include <memory>
#include <string>

#include "core/result.hpp"

namespace zeq::netlink {

struct SockFree { void operator()(nl_sock* s) const { nl_socket_free(s); } };
struct CacheFree { void operator()(nl_cache* c) const { nl_cache_free(c); } };
struct LinkFree { void operator()(rtnl_link* l) const { rtnl_link_put(l); } };
struct AddrFree { void operator()(rtnl_addr* a) const { rtnl_addr_put(a); } };
struct NlAddrFree { void operator()(nl_addr* a) const { nl_addr_put(a); } };
struct RouteFree { void operator()(rtnl_route* r) const { rtnl_route_put(r); } };
struct RuleFree { void operator()(rtnl_rule* r) const { rtnl_rule_put(r); } };
struct MsgFree { void operator()(nl_msg* m) const { nlmsg_free(m); } };
using Sock = std::unique_ptr<nl_sock, SockFree>;

// "WHAT: libnl's reason", with the fix when the kernel said EPERM.
inline Status error(const std::string& what, int err) {
  return Status::error(what + ": " + nl_geterror(err) + (err == -NLE_PERM ? "; zeqvpnd needs CAP_NET_ADMIN" : ""));
}

// A socket connected to NETLINK_ROUTE.
inline Result<Sock> connect() {
  Sock sock(nl_socket_alloc());
  if (!sock) return Status::error("netlink: out of memory");
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) return error("netlink connect", err);
  return sock;
}

}  // namespace zeq::netlink
