// Host names resolved with c-ares on the control thread's event loop, for
// peers' endpoint host names. No thread of its own: Boost.Asio watches
// c-ares's sockets and its timeout, so nothing blocks the control thread.
// The queries go outside the tunnel: only to the name servers given (never
// the resolv.conf of the moment, which zeqvpnd may have pointed at a peer's
// resolver inside the tunnel), from sockets that carry the node's fwmark
// (SO_MARK), so that they leave by the main routing table under full-tunnel
// policy routing and pass the kill switch and the DNS-leak block, which
// accept the mark. The hosts file is read first, as the C library does.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/net_address.hpp"
#include "core/result.hpp"
#include "mesh/host_resolver.hpp"

namespace boost::asio {
class io_context;
}

namespace zeq {

class AresResolver final : public HostResolver {
 public:
  // Milliseconds before a server counts as not answering, and tries per
  // server: an unanswered query fails within seconds (c-ares doubles the
  // timeout on the second round), and the refresher tries again later.
  static constexpr int TIMEOUT_MS = 2000;
  static constexpr int TRIES = 2;

  // `servers`: host prefixes of name servers, asked on `dns_port` (tests
  // run a server of their own on another). fwmark 0: no mark. An error says
  // what is missing (no servers, c-ares failing to start).
  static Result<std::unique_ptr<AresResolver>> create(boost::asio::io_context& io, const std::vector<IpPrefix>& servers,
                                                      uint32_t fwmark, uint16_t dns_port = 53);
  ~AresResolver() override;

  void resolve(const std::string& host, uint16_t port, Done done) override;
  std::string servers() const override;

 private:
  struct Impl;
  explicit AresResolver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zeq
