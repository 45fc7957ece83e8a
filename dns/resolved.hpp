// systemd-resolved over D-Bus (sd-bus): the TUN link gets the peer's resolver
// (SetLinkDNS), the `~.` routing domain (SetLinkDomains) so that every name
// is sent there, and the default route for DNS (SetLinkDefaultRoute).
// RevertLink undoes it; the link's settings also vanish with the link.
#pragma once

#include "dns/system_resolver.hpp"

namespace zeq {

class Resolved final : public SystemResolver {
 public:
  explicit Resolved(int ifindex) : ifindex_(ifindex) {}
  // resolved answers on the system bus (its varlink socket is the sign).
  static bool running();

  std::string name() const override { return "systemd-resolved"; }
  Status point_at(const std::vector<IpPrefix>& servers) override;
  Status restore() override;

 private:
  int ifindex_;
  bool changed_ = false;
};

}  // namespace zeq
