#include "mesh/counters.hpp"

namespace zeq {

const char* to_string(Drop d) {
  switch (d) {
    case Drop::kMalformed: return "malformed";
    case Drop::kUnknownIndex: return "unknown_index";
    case Drop::kBadTag: return "bad_tag";
    case Drop::kReplay: return "replay";
    case Drop::kExpiredKey: return "expired_key";
    case Drop::kAllowedIps: return "allowed_ips";
    case Drop::kNoRoute: return "no_route";
    case Drop::kNoSession: return "no_session";
    case Drop::kStagedFull: return "staged_full";
    case Drop::kNoEndpoint: return "no_endpoint";
    case Drop::kHandshakeMac1: return "handshake_mac1";
    case Drop::kHandshakeCookie: return "handshake_cookie_sent";
    case Drop::kHandshakeUnderLoad: return "handshake_unanswered";
    case Drop::kHandshakeRateLimited: return "handshake_rate_limited";
    case Drop::kCookieReplyUnexpected: return "cookie_reply_unexpected";
    case Drop::kCookieReplyOverBudget: return "cookie_reply_over_budget";
    case Drop::kControlQueue: return "control_queue_full";
    case Drop::kTunWrite: return "tun_write";
    case Drop::kUdpSend: return "udp_send";
    case Drop::kSealFailed: return "seal_failed";
    case Drop::kRelayChannel: return "relay_channel";
    case Drop::kRelayOverLimit: return "relay_over_limit";
    case Drop::kRelayNoSession: return "relay_no_session";
    case Drop::kRelayUnexpected: return "relay_unexpected";
    case Drop::kTooBig: return "too_big";
    case Drop::kCount: break;
  }
  return "unknown";
}

const char* to_string(Offload o) {
  switch (o) {
    case Offload::kTunSuperPackets: return "tun_super_packets_read";
    case Offload::kTunSegments: return "tun_segments_split";
    case Offload::kTunCoalesced: return "tun_super_packets_written";
    case Offload::kTunJoined: return "tun_segments_joined";
    case Offload::kUdpGsoSends: return "udp_gso_sends";
    case Offload::kUdpGsoDatagrams: return "udp_gso_datagrams";
    case Offload::kUdpGroBuffers: return "udp_gro_buffers";
    case Offload::kUdpGroDatagrams: return "udp_gro_datagrams";
    case Offload::kUdpGsoRetries: return "udp_gso_retries";
    case Offload::kCount: break;
  }
  return "unknown";
}

}  // namespace zeq
