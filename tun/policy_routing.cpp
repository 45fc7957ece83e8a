#include "tun/policy_routing.hpp"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>

#include <vector>

#include "tun/netlink_handles.hpp"

namespace zeq {

namespace {

using namespace netlink;
using netlink::error;

const char* family_name(int family) { return family == AF_INET ? "IPv4" : "IPv6"; }

// One of our two rules. libnl's rule object has no field for the invert
// flag or suppress_prefixlength, so the request it builds is completed by
// hand: the fib_rule_hdr's flags, and FRA_SUPPRESS_PREFIXLEN appended.
Status add_rule(nl_sock* sock, int family, uint32_t priority, const ExitRouting& r) {
  std::unique_ptr<rtnl_rule, RuleFree> rule(rtnl_rule_alloc());
  rtnl_rule_set_family(rule.get(), family);
  rtnl_rule_set_prio(rule.get(), priority);
  rtnl_rule_set_action(rule.get(), FR_ACT_TO_TBL);
  (void)rtnl_rule_set_protocol(rule.get(), ROUTE_PROTOCOL);
  const bool lan = priority == RULE_PRIORITY_LAN;
  rtnl_rule_set_table(rule.get(), lan ? RT_TABLE_MAIN : r.table);
  if (!lan) {
    rtnl_rule_set_mark(rule.get(), r.fwmark);
    rtnl_rule_set_mask(rule.get(), 0xffffffff);
  }
  nl_msg* raw = nullptr;
  if (int err = rtnl_rule_build_add_request(rule.get(), NLM_F_CREATE | NLM_F_EXCL, &raw); err < 0)
    return error("building an ip rule", err);
  std::unique_ptr<nl_msg, MsgFree> msg(raw);
  auto* hdr = static_cast<fib_rule_hdr*>(nlmsg_data(nlmsg_hdr(msg.get())));
  if (lan) {
    if (int err = nla_put_u32(msg.get(), FRA_SUPPRESS_PREFIXLEN, 0); err < 0) return error("building an ip rule", err);
  } else {
    hdr->flags |= FIB_RULE_INVERT;
  }
  int err = nl_send_auto_complete(sock, msg.get());
  if (err >= 0) err = nl_wait_for_ack(sock);
  if (err < 0 && err != -NLE_EXIST)
    return error(std::string("adding the ") + family_name(family) + " rule " + std::to_string(priority) +
                        (lan ? " (lookup main suppress_prefixlength 0)" : " (not fwmark, lookup table " + std::to_string(r.table) + ")"),
                    err);
  return Status::ok();
}

std::unique_ptr<rtnl_route, RouteFree> default_route(int family, uint32_t table, int ifindex) {
  std::unique_ptr<rtnl_route, RouteFree> route(rtnl_route_alloc());
  uint8_t zero[16] = {};
  std::unique_ptr<nl_addr, NlAddrFree> dst(nl_addr_build(family, zero, family == AF_INET ? 4 : 16));
  nl_addr_set_prefixlen(dst.get(), 0);
  rtnl_route_set_family(route.get(), uint8_t(family));
  rtnl_route_set_dst(route.get(), dst.get());
  rtnl_route_set_table(route.get(), table);
  rtnl_route_set_protocol(route.get(), ROUTE_PROTOCOL);
  rtnl_route_set_scope(route.get(), RT_SCOPE_LINK);
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  if (ifindex > 0) {
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    rtnl_route_nh_set_ifindex(nh, ifindex);
    rtnl_route_add_nexthop(route.get(), nh);  // the route owns nh now
  }
  return route;
}

// Our rules of one family now installed: (priority, table).
Result<std::vector<std::pair<uint32_t, uint32_t>>> our_rules(nl_sock* sock, int family) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_rule_alloc_cache(sock, family, &raw); err < 0) return error("reading ip rules", err);
  std::unique_ptr<nl_cache, CacheFree> cache(raw);
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* rule = reinterpret_cast<rtnl_rule*>(o);
    // The cache may hold every family's rules, whatever it was asked for.
    if (rtnl_rule_get_family(rule) != family) continue;
    uint8_t proto = 0;
    if (rtnl_rule_get_protocol(rule, &proto) < 0 || proto != ROUTE_PROTOCOL) continue;
    out.emplace_back(rtnl_rule_get_prio(rule), rtnl_rule_get_table(rule));
  }
  return out;
}

// Deletes by priority and protocol: the kernel matches only what the
// request names, and no one else's rule carries our protocol.
Status delete_rule(nl_sock* sock, int family, uint32_t priority) {
  std::unique_ptr<rtnl_rule, RuleFree> rule(rtnl_rule_alloc());
  rtnl_rule_set_family(rule.get(), family);
  rtnl_rule_set_prio(rule.get(), priority);
  (void)rtnl_rule_set_protocol(rule.get(), ROUTE_PROTOCOL);
  if (int err = rtnl_rule_delete(sock, rule.get(), 0); err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NOADDR)
    return error(std::string("removing the ") + family_name(family) + " rule " + std::to_string(priority), err);
  return Status::ok();
}

// Routes of one family in `table` (any protocol: the table is ours).
Result<std::vector<std::unique_ptr<rtnl_route, RouteFree>>> routes_in(nl_sock* sock, int family, uint32_t table) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_route_alloc_cache(sock, family, 0, &raw); err < 0) return error("reading routes", err);
  std::unique_ptr<nl_cache, CacheFree> cache(raw);
  std::vector<std::unique_ptr<rtnl_route, RouteFree>> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* route = reinterpret_cast<rtnl_route*>(o);
    if (rtnl_route_get_table(route) != table || rtnl_route_get_family(route) != family) continue;
    nl_object_get(o);
    out.emplace_back(route);
  }
  return out;
}

Status apply_family(nl_sock* sock, int family, bool routed, const ExitRouting& r) {
  auto have = our_rules(sock, family);
  if (!have) return have.status();
  auto has = [&](uint32_t prio, uint32_t table) {
    for (const auto& [p, t] : *have)
      if (p == prio && t == table) return true;
    return false;
  };
  if (routed) {
    // Route first, then rules: a rule pointing at an empty table would let
    // packets fall through to the main table for a moment.
    auto route = default_route(family, r.table, r.ifindex);
    if (int err = rtnl_route_add(sock, route.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0)
      return error(std::string("adding the ") + family_name(family) + " default route to table " + std::to_string(r.table), err);
    if (r.allow_lan && !has(RULE_PRIORITY_LAN, RT_TABLE_MAIN))
      if (Status s = add_rule(sock, family, RULE_PRIORITY_LAN, r); !s) return s;
    if (!has(RULE_PRIORITY_EXIT, r.table))
      if (Status s = add_rule(sock, family, RULE_PRIORITY_EXIT, r); !s) return s;
  }
  // What is not wanted (any more): rules first, then the table's routes.
  for (const auto& [prio, table] : *have) {
    bool keep = routed && ((prio == RULE_PRIORITY_EXIT && table == r.table) ||
                           (prio == RULE_PRIORITY_LAN && table == RT_TABLE_MAIN && r.allow_lan));
    if (!keep)
      if (Status s = delete_rule(sock, family, prio); !s) return s;
  }
  if (!routed) {
    auto routes = routes_in(sock, family, r.table);
    if (!routes) return routes.status();
    for (auto& route : *routes)
      if (int err = rtnl_route_delete(sock, route.get(), 0); err < 0 && err != -NLE_OBJ_NOTFOUND)
        return error(std::string("removing a ") + family_name(family) + " route from table " + std::to_string(r.table), err);
  }
  return Status::ok();
}

}  // namespace

Status apply_exit_routing(const ExitRouting& want) {
  if (want.table == 0 || want.table == RT_TABLE_MAIN || want.table == RT_TABLE_LOCAL || want.table == RT_TABLE_DEFAULT)
    return Status::error("route_table " + std::to_string(want.table) + " is reserved; pick another table number, e.g. 23121");
  auto sock = netlink::connect();
  if (!sock) return sock.status();
  if (Status s = apply_family(sock->get(), AF_INET, want.ipv4, want); !s) return s;
  return apply_family(sock->get(), AF_INET6, want.ipv6, want);
}

Result<int> remove_exit_routing(uint32_t table) {
  auto sock = netlink::connect();
  if (!sock) return sock.status();
  int removed = 0;
  for (int family : {AF_INET, AF_INET6}) {
    auto have = our_rules(sock->get(), family);
    if (!have) return have.status();
    for (const auto& rule : *have) {
      if (Status s = delete_rule(sock->get(), family, rule.first); !s) return s;
      ++removed;
    }
    auto routes = routes_in(sock->get(), family, table);
    if (!routes) return routes.status();
    for (auto& route : *routes) {
      if (int err = rtnl_route_delete(sock->get(), route.get(), 0); err < 0 && err != -NLE_OBJ_NOTFOUND)
        return error(std::string("removing a ") + family_name(family) + " route from table " + std::to_string(table), err);
      ++removed;
    }
  }
  return removed;
}

Result<std::string> installed_exit_routing(uint32_t table) {
  auto sock = netlink::connect();
  if (!sock) return sock.status();
  std::string out;
  for (int family : {AF_INET, AF_INET6}) {
    auto have = our_rules(sock->get(), family);
    if (!have) return have.status();
    bool rule = false;
    for (const auto& [prio, t] : *have) rule = rule || (prio == RULE_PRIORITY_EXIT && t == table);
    auto routes = routes_in(sock->get(), family, table);
    if (!routes) return routes.status();
    if (rule && !routes->empty()) out += std::string(out.empty() ? "" : " ") + (family == AF_INET ? "ipv4" : "ipv6");
  }
  return out;
}

}  // namespace zeq
