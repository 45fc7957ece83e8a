// Why the data plane dropped a packet. Each worker counts into its own
// cache-line-aligned array, so counting costs no shared writes; readers sum.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace zeq {

enum class Drop : uint8_t {
  kMalformed,        // too short, bad type byte, bad IP header
  kUnknownIndex,     // receiver index matches no session
  kBadTag,           // AEAD authentication failed
  kReplay,           // counter seen before or older than the window
  kExpiredKey,       // session older than REJECT_AFTER or at the message limit
  kAllowedIps,       // inner source address not in the sender's allowed_ips
  kNoRoute,          // outgoing packet's destination matches no peer
  kNoSession,        // held for a peer without a session, whose handshake then gave up (or was cut)
  kStagedFull,       // held for a peer without a session, pushed out by newer ones (128 are held)
  kNoEndpoint,       // peer has no known endpoint
  kHandshakeMac1,    // handshake message with a wrong mac1
  kHandshakeCookie,  // under load, no valid mac2: answered with a cookie reply instead
  kHandshakeUnderLoad,  // the same, but over the cookie-reply budget: not even answered
  kHandshakeRateLimited,  // under load, its source address over the handshake rate
  kCookieReplyUnexpected,  // cookie reply whose receiver index is no handshake of ours in flight
  kCookieReplyOverBudget,  // cookie reply for one, over the per-Zeqond budget of them
  kControlQueue,     // control thread saturated with handshake or in-tunnel control messages
  kTunWrite,         // writing to the TUN device failed
  kUdpSend,          // sending on the UDP socket failed
  kSealFailed,       // the cipher failed to seal an outgoing packet (not sent)
  kRelayChannel,     // relayed message on a channel that is not the sender's (or no longer open)
  kRelayOverLimit,   // relay: over the client's or the pair's bandwidth limit
  kRelayNoSession,   // relayed message whose next hop (relay or far end) has no usable session
  kRelayUnexpected,  // relayed message where this node's role takes none (a relay's to a relay, ...)
  kTooBig,           // longer than the peer's path MTU and not to be fragmented: answered with ICMP too big
  kCount,
};

const char* to_string(Drop d);

// Packets that arrived and were not IP data.
enum class Received : uint8_t { kKeepalive, kCover, kControl, kCount };

// What the offloads did (tun/tun_device.hpp, mesh/udp_socket.hpp): how many
// syscalls moved how many packets, so an operator (and the tests) can see
// the offload path at work.
enum class Offload : uint8_t {
  kTunSuperPackets,  // TSO/USO super-packets read from the TUN
  kTunSegments,      // packets split out of them
  kTunCoalesced,     // super-packets written to the TUN (TCP segments joined)
  kTunJoined,        // TCP segments that went into them
  kUdpGsoSends,      // sendmsg calls that carried several datagrams (UDP GSO)
  kUdpGsoDatagrams,  // datagrams they carried
  kUdpGroBuffers,    // received buffers that held several datagrams (UDP GRO)
  kUdpGroDatagrams,  // datagrams they held
  kUdpGsoRetries,    // GSO sends the kernel refused, sent again one by one
  kCount,
};

const char* to_string(Offload o);

struct alignas(64) WorkerCounters {
  std::array<std::atomic<uint64_t>, size_t(Drop::kCount)> drops{};
  std::array<std::atomic<uint64_t>, size_t(Received::kCount)> received{};
  std::array<std::atomic<uint64_t>, size_t(Offload::kCount)> offload{};

  void drop(Drop d) { drops[size_t(d)].fetch_add(1, std::memory_order_relaxed); }
  void count(Received r) { received[size_t(r)].fetch_add(1, std::memory_order_relaxed); }
  void count(Offload o, uint64_t n = 1) { offload[size_t(o)].fetch_add(n, std::memory_order_relaxed); }
};

}  // namespace zeq
