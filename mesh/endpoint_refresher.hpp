// Peers whose endpoint is a host name (PeerSettings::endpoint_host): the
// name is resolved outside the tunnel (HostResolver) when the node starts,
// and when a reload adds the peer or changes the name; while the peer has
// no endpoint, a failure is logged once and retried with backoff. Once it
// has one, the name is resolved again whenever a handshake initiation to
// the peer went unanswered (each retry, as wg's reresolve-dns does on stale
// handshakes), never while the tunnel works: a peer that roams is followed
// by its authenticated packets as before, and an answer is not used when
// such a packet arrived while the query was out. At most one query per peer
// is in flight. Control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "mesh/data_plane.hpp"
#include "mesh/host_resolver.hpp"

namespace zeq {

// The answer to use: the first of the family `previous` had (IPv4 or
// IPv6), else the first; `previous` empty: the first. answers is not empty.
UdpEndpoint pick_endpoint(const std::vector<UdpEndpoint>& answers, const UdpEndpoint& previous);

class EndpointRefresher {
 public:
  // Backoff of a name that does not resolve while the peer has no
  // endpoint: 1, 2, 4, ... Zeqonds, at most MAX_RETRY_Z.
  static constexpr int64_t FIRST_RETRY_Z = 1;
  static constexpr int64_t MAX_RETRY_Z = 32;

  // The resolver is made when the first name is to be resolved (a node
  // without host names never starts one). `found` runs when a peer that had
  // no endpoint gets one: the node starts a handshake.
  using MakeResolver = std::function<Result<std::unique_ptr<HostResolver>>()>;
  using Found = std::function<void(Peer&)>;
  EndpointRefresher(DataPlane& plane, const Clock& clock, MakeResolver make_resolver, Found found);
  ~EndpointRefresher();

  // Starts what is due: first resolutions, retries after a failure. Call at
  // start and on every timer tick.
  void tick();
  // A handshake initiation to the peer went unanswered and is sent again.
  void handshake_unanswered(Peer& peer);
  // Queries in flight (for tests and status).
  size_t in_flight() const;

 private:
  struct State {
    std::string host;
    uint16_t port = 0;
    uint64_t query = 0;        // the query whose answer counts (earlier ones are stale)
    bool in_flight = false;
    // A name new to this peer (start, reload) is resolved at once, and its
    // answer replaces whatever endpoint the peer had, as a new numeric
    // endpoint in the file does.
    bool fresh = true;
    bool replace = false;      // the query in flight is a fresh name's
    int failures = 0;          // in a row
    int64_t asked_us = 0;
    int64_t next_try_us = 0;   // after a failure, while the peer has no endpoint
  };

  State& state_of(Peer& peer);
  void ask(Peer& peer, State& st, int64_t now);
  void answered(uint64_t serial, uint64_t query, HostResolver::Answer answer);
  void failed(Peer& peer, State& st, const std::string& why, int64_t now);

  DataPlane& plane_;
  const Clock& clock_;
  MakeResolver make_resolver_;
  Found found_;
  std::map<uint64_t, State> states_;  // by peer serial
  // Last: it goes first, so no answer arrives while the rest is torn down.
  std::unique_ptr<HostResolver> resolver_;
};

}  // namespace zeq
