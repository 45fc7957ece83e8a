#include "mesh/dns_offers.hpp"

#include <spdlog/spdlog.h>

#include "mesh/session_manager.hpp"
#include "protocol/control_message.hpp"

namespace zeq {

DnsOffers::DnsOffers(const DataPlane& plane, SessionManager& sessions) : plane_(plane), sessions_(sessions) {}

void DnsOffers::offer_to(Peer& peer, int64_t now_us) {
  if (!resolver_) return;
  (void)sessions_.send_plaintext(peer, now_us, encode_dns_offer(DnsOffer{{*resolver_}}));  // repeated, so a loss is no error
}

void DnsOffers::on_control_message(const Peer& peer, ByteSpan plaintext) {
  auto offer = parse_dns_offer(plaintext);
  if (!offer) {
    spdlog::warn("peer {}: malformed DNS offer ignored", peer.label());
    return;
  }
  if (!policy_ || !policy_->wants_dns_offers()) {
    spdlog::debug("peer {}: DNS offer ignored (dns_via_peer: false)", peer.label());
    return;
  }
  for (const auto& r : offer->resolvers) {
    if (plane_.table()->lookup(r.family, r.addr.data()) != &peer) {
      spdlog::warn("peer {}: offered resolver {} is outside its allowed_ips; offer ignored", peer.label(), r.to_string());
      return;
    }
  }
  policy_->dns_offered(peer.label(), peer.key.zid, offer->resolvers);
}

}  // namespace zeq
