#include "mesh/endpoint_refresher.hpp"

#include <netinet/in.h>

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace zeq {

namespace {

bool is_ipv4(const UdpEndpoint& ep) { return IN6_IS_ADDR_V4MAPPED(&ep.sa.sin6_addr); }

}  // namespace

UdpEndpoint pick_endpoint(const std::vector<UdpEndpoint>& answers, const UdpEndpoint& previous) {
  if (!previous.empty())
    for (const auto& a : answers)
      if (is_ipv4(a) == is_ipv4(previous)) return a;
  return answers.front();
}

EndpointRefresher::EndpointRefresher(DataPlane& plane, const Clock& clock, MakeResolver make_resolver, Found found)
    : plane_(plane), clock_(clock), make_resolver_(std::move(make_resolver)), found_(std::move(found)) {}

EndpointRefresher::~EndpointRefresher() = default;

size_t EndpointRefresher::in_flight() const {
  return size_t(std::count_if(states_.begin(), states_.end(), [](const auto& kv) { return kv.second.in_flight; }));
}

EndpointRefresher::State& EndpointRefresher::state_of(Peer& peer) {
  State& st = states_[peer.serial];
  if (st.host != peer.settings.endpoint_host || st.port != peer.settings.endpoint_port) {
    // New, or renamed by a reload: an answer to the old name no longer counts.
    const uint64_t query = st.query;
    st = State{};
    st.host = peer.settings.endpoint_host;
    st.port = peer.settings.endpoint_port;
    st.query = query;
  }
  return st;
}

void EndpointRefresher::tick() {
  if (plane_.peers.empty() && states_.empty()) return;
  const int64_t now = clock_.mono_us();
  for (auto& p : plane_.peers) {
    if (p->settings.endpoint_host.empty()) continue;
    State& st = state_of(*p);
    if (st.in_flight || p->admin_down) continue;
    if (st.fresh || (p->endpoint.load().empty() && now >= st.next_try_us)) ask(*p, st, now);
  }
  // Peers a reload removed, or gave a numeric endpoint instead.
  for (auto it = states_.begin(); it != states_.end();) {
    Peer* p = plane_.find_by_serial(it->first);
    if (!p || p->settings.endpoint_host.empty()) it = states_.erase(it);
    else ++it;
  }
}

void EndpointRefresher::handshake_unanswered(Peer& peer) {
  if (peer.settings.endpoint_host.empty()) return;
  State& st = state_of(peer);
  if (!st.in_flight) ask(peer, st, clock_.mono_us());
}

void EndpointRefresher::ask(Peer& peer, State& st, int64_t now) {
  st.replace = st.fresh;
  st.fresh = false;
  if (!resolver_) {
    auto made = make_resolver_();
    if (!made) return failed(peer, st, made.message(), now);
    resolver_ = std::move(made.value());
  }
  st.in_flight = true;
  st.asked_us = now;
  const uint64_t query = ++st.query;
  spdlog::debug("peer {}: resolving endpoint {}:{} (asking {})", peer.label(), st.host, st.port, resolver_->servers());
  resolver_->resolve(st.host, st.port, [this, serial = peer.serial, query](HostResolver::Answer answer) {
    answered(serial, query, std::move(answer));
  });
}

void EndpointRefresher::answered(uint64_t serial, uint64_t query, HostResolver::Answer answer) {
  auto it = states_.find(serial);
  if (it == states_.end() || it->second.query != query) return;  // the peer went, or its name changed
  State& st = it->second;
  st.in_flight = false;
  Peer* peer = plane_.find_by_serial(serial);
  if (!peer) return;
  const int64_t now = clock_.mono_us();
  if (!answer) return failed(*peer, st, answer.message(), now);
  const bool recovered = st.failures > 0;
  st.failures = 0;
  const UdpEndpoint was = peer->endpoint.load();
  const UdpEndpoint next = pick_endpoint(*answer, was);
  if (was.empty()) {
    peer->endpoint.store(next);
    spdlog::info("peer {}: endpoint {} resolves to {}", peer->label(), st.host, next.to_string());
    found_(*peer);
    return;
  }
  // Roaming wins: the address the peer's packets came from while we asked
  // is one that works.
  if (!st.replace && peer->last_rx_us.load(std::memory_order_relaxed) > st.asked_us) {
    spdlog::debug("peer {}: endpoint {} resolves to {}; keeping {}, from which the peer was heard meanwhile",
                  peer->label(), st.host, next.to_string(), was.to_string());
    return;
  }
  if (next == was) {
    if (recovered) spdlog::info("peer {}: endpoint {} resolves again, to {}", peer->label(), st.host, next.to_string());
    else spdlog::debug("peer {}: endpoint {} still resolves to {}", peer->label(), st.host, next.to_string());
    return;
  }
  peer->endpoint.store(next);
  spdlog::info("peer {}: endpoint {} now resolves to {} (was {})", peer->label(), st.host, next.to_string(), was.to_string());
  found_(*peer);
}

// One line at the first failure in a row, debug after that; with an
// endpoint in hand the next unanswered handshake asks again, without one
// the backoff does.
void EndpointRefresher::failed(Peer& peer, State& st, const std::string& why, int64_t now) {
  ++st.failures;
  const int64_t backoff_z = std::min(FIRST_RETRY_Z << std::min(st.failures - 1, 16), MAX_RETRY_Z);
  st.next_try_us = now + zeqonds_to_us(backoff_z);
  const UdpEndpoint current = peer.endpoint.load();
  std::string then = current.empty()
                         ? fmt::format("the peer has no endpoint until it does; trying again in {:.1f} s",
                                       double(zeqonds_to_us(backoff_z)) / 1e6)
                         : "keeping " + current.to_string() + "; asking again at the next unanswered handshake";
  if (st.failures == 1)
    spdlog::warn("peer {}: endpoint {}:{} does not resolve: {}; {}", peer.label(), st.host, st.port, why, then);
  else
    spdlog::debug("peer {}: endpoint {}:{} still does not resolve ({} times): {}; {}", peer.label(), st.host, st.port,
                  st.failures, why, then);
}

}  // namespace zeq
