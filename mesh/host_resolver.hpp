// What the node needs of a DNS resolver: a peer's endpoint host name turned
// into addresses, without blocking the control thread. AresResolver
// (ares_resolver.hpp) is the real one; tests hand EndpointRefresher a fake.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/net_address.hpp"
#include "core/result.hpp"

namespace zeq {

class HostResolver {
 public:
  // The addresses of the name with `port` set, in the resolver's order of
  // preference (never empty), or why there are none.
  using Answer = Result<std::vector<UdpEndpoint>>;
  using Done = std::function<void(Answer)>;

  virtual ~HostResolver() = default;
  // Starts a query. `done` runs later on the control thread, never inside
  // resolve(), and never after the resolver is destroyed.
  virtual void resolve(const std::string& host, uint16_t port, Done done) = 0;
  // The name servers asked, for messages ("192.0.2.53, 2001:db8::53").
  virtual std::string servers() const = 0;
};

}  // namespace zeq
