// The control thread's side of sessions: answering and starting handshakes,
// turning finished handshakes into Keypairs, rotating current/previous/next
// keys (session_manager.cpp), the packets the control thread itself seals
// (session_send.cpp), the protocol timers (timers.cpp) and operator actions
// and reloads (peer_admin.cpp). Runs on the control thread only; workers see
// its results through DataPlane.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/net_address.hpp"
#include "crypto/random.hpp"
#include "crypto/secret_bytes.hpp"
#include "identity/key_file.hpp"
#include "mesh/data_plane.hpp"
#include "mesh/mesh_trust.hpp"
#include "mesh/node_settings.hpp"
#include "mesh/tunnel_events.hpp"
#include "protocol/handshake.hpp"

namespace zeq {

class SessionManager {
 public:
  using SendFn = std::function<bool(ByteSpan message, const UdpEndpoint& to)>;
  // In-tunnel control messages: up to a directory message (a 1200-byte body
  // and its header, protocol/directory_messages.hpp), within any tunnel MTU
  // (1280 at least).
  static constexpr size_t MAX_CONTROL_PLAINTEXT = 1280;
  // tick() runs this often per Zeqond, so every timer fires within an eighth
  // of a Zeqond of its time.
  static constexpr int TICKS_PER_ZEQOND = 8;
  static constexpr int64_t TICK_US = TAU_ZQ_US / TICKS_PER_ZEQOND;

  SessionManager(DataPlane& plane, const LocalIdentity& local, const SecretBuffer& mesh_secret, const Clock& clock,
                 RandomSource& random, SendFn send);
  ~SessionManager();

  // A handshake message that already passed size and mac1 checks (and
  // lost its mac2), or a cookie reply of the right size.
  // via_route: the relayed route it arrived by (0: straight from `from`).
  void on_handshake_message(ByteSpan message, const UdpEndpoint& from, uint64_t via_route = 0);
  // A worker flagged this peer.
  void on_attention(Peer& peer);
  // Protocol timers; call TICKS_PER_ZEQOND times per Zeqond (timers.cpp).
  void tick();
  // Starts a handshake with every peer that has an endpoint, but those known
  // only from the directory (their tunnels come up on demand).
  void start_all();
  // Retires every session; call after the workers stopped.
  void shutdown();

  // Who hears about tunnels coming up and going down.
  void set_events(TunnelEvents* events) { events_ = events; }
  // Runs when a handshake initiation to the peer went unanswered and is
  // about to be sent again (its endpoint's host name is resolved anew,
  // mesh/endpoint_refresher.hpp).
  void set_unanswered_hook(std::function<void(Peer&)> hook) { unanswered_ = std::move(hook); }
  // The peer's endpoint was set or changed outside a handshake (its host
  // name resolved): a handshake starts now unless a session or a handshake
  // is under way, whose next retry goes to the new endpoint.
  void endpoint_found(Peer& peer);
  // Tests only: sees every session key pair as it is made, so a test can
  // prove that no key of a run reaches the state database.
  using KeyObserver = std::function<void(const SessionKeys&)>;
  void observe_keys_for_tests(KeyObserver observer) { key_observer_ = std::move(observer); }

  // Operator actions (zeqvpnctl). Down: keys retired, handshakes refused
  // until up. Up: clears that and handshakes at once. Rekey: a new handshake
  // now, even if the current key is young; false without a known endpoint.
  void set_admin_down(Peer& peer, bool down);
  bool rekey_now(Peer& peer);
  // Seals `plaintext`, padded by the peer's padding policy, under the peer's
  // current key and sends it: keepalives (empty; a cover-form plaintext under
  // buckets and mtu) and in-tunnel control messages. False without a usable
  // key or endpoint, or when sealing or sending failed.
  // direct_to: sent straight there instead, whatever the peer's route.
  bool send_plaintext(Peer& peer, int64_t now, ByteSpan plaintext, const UdpEndpoint* direct_to = nullptr);
  // One cover packet: 0x00 and random bytes, its size drawn from the peer's
  // padding policy, sealed like any other data message. Returns the bytes
  // sent (0: not sent).
  size_t send_cover(Peer& peer, int64_t now);

  // Makes the peer set match `wanted` (a reload): peers that are gone are
  // taken down and removed, new ones added and started, changed ones updated
  // in place. A peer is the same peer when its ZID and public key are; its
  // keys, counters and tunnel survive any other change.
  struct PeerSetChange {
    std::vector<std::string> added, removed, updated;
    size_t unchanged = 0;
  };
  PeerSetChange apply_peers(const std::vector<PeerSettings>& wanted);

  // Certificates (mesh/mesh_trust.hpp): the trust in force. A new one (start,
  // reload) is applied at once: every certified peer is checked against it,
  // and one that no longer passes (revoked, expired, its CA no longer
  // trusted) is cut: keys dropped, and a certified-only peer removed.
  void apply_trust(std::shared_ptr<const TrustSettings> trust);
  const MeshTrust& trust() const { return trust_; }
  // Runs when a certificate changed what some peer may route (a peer
  // admitted, narrowed, renewed or forgotten), so the node can bring its
  // kernel routes in line (DataPlane::routable_prefixes).
  void set_routes_changed_hook(std::function<void()> hook) { routes_changed_ = std::move(hook); }
  // Tunnels cut because a certificate stopped passing, by reason
  // (kCertRevoked, kCertExpired, kCertUnknownIssuer, ...).
  uint64_t certificate_cuts(HandshakeReject r) const { return cert_cuts_[size_t(r)]; }

  // known_peers.cpp: peers the mesh directory vouches for. learn: each is
  // added as a certified-only peer (its certificate's routes at once, no
  // handshake until traffic for it arrives), or an existing peer of that ZID
  // takes the endpoints (and, certified-only, the newer certificate). A YAML
  // peer of that ZID with another key keeps its own. unlearn: a peer known
  // only from the directory is forgotten (tunnel cut); a YAML one stays.
  void learn_peers(const std::vector<KnownPeer>& known);
  void unlearn_peers(const std::vector<std::string>& zids);
  // Directory peers' tunnels go idle after this long without IP traffic (0: never).
  void set_known_peer_idle(uint64_t zeqonds) { known_idle_z_ = zeqonds; }
  // Padding and cover for peers the YAML does not name (admitted by
  // certificate or learnt): the node's settings.
  void set_traffic_shape(CoverMode cover, PaddingPolicy padding) {
    shape_cover_ = cover;
    shape_padding_ = padding;
  }
  uint64_t idle_teardowns() const { return idle_teardowns_; }

  // relay_paths.cpp: routes through relays (relay_route.hpp). add: a route
  // to `peer` through `relay` on `channel` (the relay's channel for our end)
  // that takes what arrives by it, and that packets go out by when `use`;
  // returns its id. remove: gone (a closed pair); if it was in use, packets
  // go straight to the endpoint again until another is used. use: packets
  // go out by that route (0: directly). handshake_now: a handshake starts at
  // once (a new path, keys to make).
  uint64_t add_relay_route(Peer& peer, Peer& relay, uint32_t channel, bool use);
  void remove_relay_route(Peer& peer, uint64_t route_id);
  bool use_route(Peer& peer, uint64_t route_id);
  void handshake_now(Peer& peer);
  RelayRoute* route_by_id(Peer& peer, uint64_t route_id) const;

  // A peer that carries routes gave up handshaking (HANDSHAKE_GIVE_UP): the
  // kill switch's on_drop mode arms on this. Peers down by operator do not count.
  bool any_tunnel_dropped() const;

  uint64_t rejects(HandshakeReject r) const { return rejects_[size_t(r)]; }
  // Completed: keys confirmed (initiator: response opened; responder: first
  // data message opened). Answered: initiations we responded to.
  uint64_t handshakes_completed() const { return completed_; }
  uint64_t handshakes_answered() const { return answered_; }
  // Cookie replies accepted: peers under load asked us for mac2.
  uint64_t cookies_received() const { return cookies_received_; }
  // One line per peer and the counters, for logs (never any key material).
  std::string describe() const;

 private:
  // session_manager.cpp
  void on_initiation(ByteSpan message, const UdpEndpoint& from, uint64_t via_route);
  void on_response(ByteSpan message, const UdpEndpoint& from, uint64_t via_route);
  void on_cookie_reply(ByteSpan message, const UdpEndpoint& from);
  void initiate(Peer& peer, int64_t now);
  void give_up(Peer& peer);
  void promote_next(Peer& peer);
  // Promotes `next` when a worker has seen a packet under it.
  void catch_up_confirmed(Peer& peer);
  void retire(Peer& peer, std::unique_ptr<Keypair>& slot);
  void reject(HandshakeReject r, const std::string& context);
  Peer* peer_by_static(const PublicKey& key);
  void drop_keys(Peer& peer);
  // certified_peers.cpp: admitting a peer by its certificate, checking the
  // certificates sent with handshakes, cutting peers whose certificate fails.
  // The certificate among a handshake's extensions, checked; an empty proof
  // when there is none or this node trusts no CA.
  MeshTrust::Proof prove(ByteSpan extensions, const PublicKey& key, const std::string& zid, uint64_t now_z) const;
  // Why a handshake that proved no certificate is refused (kNone: it is not):
  // the peer proved one before, or a revocation list names its key.
  HandshakeReject certificate_required(const Peer& peer, bool proven) const;
  Peer* admit_certified(Certificate cert, const UdpEndpoint& from);
  void adopt_certificate(Peer& peer, Certificate cert);
  void recheck_certificates(uint64_t now_z);
  void expire_certificates(uint64_t now_z);
  void cut_certified(Peer& peer, HandshakeReject why);
  void forget(Peer& peer, const char* reason = "peer_forgotten");
  // known_peers.cpp: the next endpoint of a directory peer's record, when
  // its handshake went unanswered; a directory peer's idle tunnel.
  void try_next_known_endpoint(Peer& peer);
  void idle_known_peers(int64_t now);
  // Reports up/down transitions (current key present or not) to events_.
  void sync_tunnel_state(Peer& peer, const char* down_reason);
  // While the tunnel is down: the byte counters it will count from when the
  // key about to be published brings it up (Peer::rx_bytes_at_up).
  static void note_bytes_at_up(Peer& peer);
  // A handshake message to the network; a failure is counted and logged,
  // and the handshake timers retry.
  // buffer holds the message in its first base_size bytes and has room for
  // mac2, which is added when the peer's cookie is fresh.
  void send_handshake(PeerCookie& cookie, MutableByteSpan buffer, size_t base_size, const UdpEndpoint& to,
                      RelayRoute* via, const char* what);
  // relay_paths.cpp: a message to `to`, or through the route's relay when
  // `via` is set (wrapped in RelayData under our session with the relay).
  bool send_via(const UdpEndpoint& to, RelayRoute* via, ByteSpan message);
  // After an authenticated handshake message: the peer is reached the way
  // it came (its endpoint, or the route), unless its `via` forbids that way.
  void take_path(Peer& peer, const UdpEndpoint& from, RelayRoute* via);
  // A worker saw a message arrive by another way than the route in use.
  void follow_arrival(Peer& peer);
  void set_route(Peer& peer, RelayRoute* route, const char* why);

  // session_send.cpp
  void send_keepalive(Peer& peer, int64_t now) { (void)send_plaintext(peer, now, {}); }
  // The packets workers held while the peer had no usable session, sealed
  // under the current one now; dropped (and counted) when there is none.
  void send_staged(Peer& peer, int64_t now);
  // Bytes sent, 0 without a usable key or endpoint or when sealing or
  // sending failed.
  size_t seal_and_send(Peer& peer, int64_t now, size_t plaintext_len, size_t padded_len,
                       const UdpEndpoint* direct_to = nullptr);

  // timers.cpp: one function per rule of PROTOCOL.md section 6.
  void tick_peer(Peer& peer, int64_t now);
  void retry_or_give_up_handshake(Peer& peer, int64_t now);
  void expire_keys(Peer& peer, int64_t now);
  void rekey_when_due(Peer& peer, int64_t now);
  void rehandshake_when_unanswered(Peer& peer, int64_t now);
  void keep_session_wanted(Peer& peer, int64_t now);
  void send_keepalive_when_due(Peer& peer, int64_t now);

  DataPlane& plane_;
  const LocalIdentity& local_;
  const SecretBuffer& mesh_;
  const Clock& clock_;
  RandomSource& random_;
  SendFn send_;
  TunnelEvents* events_ = nullptr;
  std::function<void(Peer&)> unanswered_;
  KeyObserver key_observer_;
  std::vector<uint8_t> scratch_;  // one sealed message, for the control thread's sends
  std::vector<uint8_t> relay_scratch_;  // the same wrapped for a relay
  uint64_t next_route_id_ = 1;
  std::array<uint64_t, size_t(HandshakeReject::kCount)> rejects_{};
  uint64_t completed_ = 0;
  uint64_t answered_ = 0;
  uint64_t cookies_received_ = 0;
  MeshTrust trust_;
  std::function<void()> routes_changed_;
  std::array<uint64_t, size_t(HandshakeReject::kCount)> cert_cuts_{};
  uint64_t last_certificate_check_z_ = 0;
  uint64_t known_idle_z_ = 0;
  uint64_t idle_teardowns_ = 0;
  CoverMode shape_cover_ = CoverMode::kOff;
  PaddingPolicy shape_padding_ = PaddingPolicy::kNone;
};

}  // namespace zeq
