#include "protocol/handshake.hpp"

#include <algorithm>

#include "core/constants.hpp"

namespace zeq {

const char* to_string(HandshakeReject r) {
  switch (r) {
    case HandshakeReject::kNone: return "none";
    case HandshakeReject::kBadSize: return "bad_size";
    case HandshakeReject::kBadMac1: return "bad_mac1";
    case HandshakeReject::kBadNoise: return "bad_noise";
    case HandshakeReject::kBadPayload: return "bad_payload";
    case HandshakeReject::kUnknownPeer: return "unknown_peer";
    case HandshakeReject::kKeyMismatch: return "key_mismatch";
    case HandshakeReject::kClockDrift: return "rejected_clock";
    case HandshakeReject::kStaleZeqond: return "stale_zeqond";
    case HandshakeReject::kReplay: return "replay";
    case HandshakeReject::kUnexpected: return "unexpected";
    case HandshakeReject::kPeerDown: return "peer_down";
    case HandshakeReject::kBadCookieReply: return "bad_cookie_reply";
    case HandshakeReject::kCount: break;
  }
  return "unknown";
}

HandshakeRandomness HandshakeRandomness::draw(RandomSource& random, uint32_t sender_index) {
  HandshakeRandomness r;
  random.fill(r.ephemeral_private.mutable_span());
  random.fill(r.nonce);
  r.sender_index = sender_index;
  return r;
}

Key32 pair_psk(ByteSpan mesh_secret, const std::string& zid_a, const std::string& zid_b) {
  Key32 psk;
  hmac_sha256(mesh_secret, {as_bytes("zeqvpn/psk/v1"), as_bytes(zid_a), as_bytes(zid_b)}, psk.mutable_span());
  return psk;
}

Key32 mesh_key(ByteSpan mesh_secret, const std::string& zid_a, const std::string& zid_b, ByteSpan nonce_a,
               ByteSpan nonce_b, uint64_t zeqond_a) {
  uint8_t z[8];
  store_be64(z, zeqond_a);
  Key32 k;
  hmac_sha256(mesh_secret, {as_bytes(zid_a), as_bytes(zid_b), nonce_a, nonce_b, ByteSpan(z, 8)}, k.mutable_span());
  return k;
}

void derive_data_keys(const Key32& k_mesh, const Key32& k1, const Key32& k2, Key32& key_i2r, Key32& key_r2i) {
  hkdf_sha256(k_mesh.span(), k1.span(), as_bytes("zeqvpn/data/i2r"), key_i2r.mutable_span());
  hkdf_sha256(k_mesh.span(), k2.span(), as_bytes("zeqvpn/data/r2i"), key_r2i.mutable_span());
}

bool within_drift(uint64_t z, uint64_t now_zeqond) {
  uint64_t d = z > now_zeqond ? z - now_zeqond : now_zeqond - z;
  return d <= uint64_t(ZEQOND_DRIFT_TOLERANCE);
}

namespace {

noise::HandshakeState::Options noise_options(bool initiator, const LocalIdentity& local) {
  noise::HandshakeState::Options o;
  o.pattern = noise::Pattern::IKpsk2;
  o.initiator = initiator;
  o.protocol_name = wire::NOISE_PROTOCOL_NAME;
  o.prologue.assign(wire::PROLOGUE, wire::PROLOGUE + sizeof(wire::PROLOGUE) - 1);
  o.s = &local.keypair;
  return o;
}

}  // namespace

std::unique_ptr<InitiatorHandshake> InitiatorHandshake::start(const LocalIdentity& local, const PeerKey& peer,
                                                              ByteSpan mesh_secret, uint64_t zeqond,
                                                              const HandshakeRandomness& rnd,
                                                              std::span<uint8_t, wire::INIT_SIZE> out) {
  std::unique_ptr<InitiatorHandshake> hs(new InitiatorHandshake());
  auto opts = noise_options(true, local);
  opts.rs = peer.public_key;
  opts.ephemeral = rnd.ephemeral_private;
  opts.psk = pair_psk(mesh_secret, local.zid, peer.zid);  // wiped with opts
  hs->noise_ = std::make_unique<noise::HandshakeState>(opts);
  hs->local_ = &local;
  hs->peer_ = peer;
  hs->own_mac1_key_ = mac1_key_for(local.keypair.public_key);
  hs->sender_index_ = rnd.sender_index;
  hs->zeqond_ = zeqond;
  hs->nonce_ = rnd.nonce;

  HandshakePayload payload{wire::PROTOCOL_VERSION, local.zid, zeqond, rnd.nonce};
  auto pbytes = encode_payload(payload);
  std::fill(out.begin(), out.end(), 0);
  out[0] = wire::kHandshakeInit;
  store_be32(out.data() + wire::SENDER_INDEX_OFFSET, rnd.sender_index);
  if (!hs->noise_->write_message(pbytes, out.data() + wire::INIT_HEADER_SIZE)) return nullptr;
  write_mac1(mac1_key_for(peer.public_key), out);
  return hs;
}

HandshakeReject InitiatorHandshake::finish(ByteSpan message, uint64_t now_zeqond, ByteSpan mesh_secret,
                                           SessionKeys& keys) {
  if (message.size() != wire::RESPONSE_SIZE || message[0] != wire::kHandshakeResponse) return HandshakeReject::kBadSize;
  if (load_be32(message.data() + wire::RESPONSE_RECEIVER_INDEX_OFFSET) != sender_index_) return HandshakeReject::kUnexpected;
  if (!verify_mac1(own_mac1_key_, message)) return HandshakeReject::kBadMac1;
  // Work on a copy: a forged response (mac1 needs only our public key) must
  // not spoil the handshake that the real response will complete.
  noise::HandshakeState attempt = *noise_;
  Bytes plain;
  auto noise_part = message.subspan(wire::RESPONSE_HEADER_SIZE, wire::RESPONSE_NOISE_SIZE);
  if (!attempt.read_message(noise_part, plain)) return HandshakeReject::kBadNoise;
  auto payload = decode_payload(plain);
  if (!payload) return HandshakeReject::kBadPayload;
  if (payload->zid != peer_.zid) return HandshakeReject::kKeyMismatch;
  if (!within_drift(payload->zeqond, now_zeqond)) return HandshakeReject::kClockDrift;

  Key32 k1, k2;
  attempt.split(k1, k2);
  Key32 k_mesh = mesh_key(mesh_secret, local_->zid, peer_.zid, nonce_, payload->nonce, zeqond_);
  derive_data_keys(k_mesh, k1, k2, keys.send_key, keys.recv_key);
  keys.local_index = sender_index_;
  keys.remote_index = load_be32(message.data() + wire::SENDER_INDEX_OFFSET);
  keys.initiator = true;
  return HandshakeReject::kNone;
}

HandshakeReject read_initiation(const LocalIdentity& local, const Digest32& own_mac1_key, ByteSpan message,
                                ReceivedInitiation& out) {
  if (message.size() != wire::INIT_SIZE || message[0] != wire::kHandshakeInit) return HandshakeReject::kBadSize;
  if (!verify_mac1(own_mac1_key, message)) return HandshakeReject::kBadMac1;
  // The responder's ephemeral is chosen in write_response, once it answers.
  auto opts = noise_options(false, local);
  out.noise = std::make_unique<noise::HandshakeState>(opts);
  Bytes plain;
  if (!out.noise->read_message(message.subspan(wire::INIT_HEADER_SIZE, wire::INIT_NOISE_SIZE), plain))
    return HandshakeReject::kBadNoise;
  auto payload = decode_payload(plain);
  if (!payload) return HandshakeReject::kBadPayload;
  out.payload = *payload;
  out.sender_index = load_be32(message.data() + wire::SENDER_INDEX_OFFSET);
  out.initiator_static = *out.noise->remote_static();
  return HandshakeReject::kNone;
}

bool write_response(ReceivedInitiation& init, const LocalIdentity& local, ByteSpan mesh_secret, uint64_t zeqond,
                    const HandshakeRandomness& rnd, std::span<uint8_t, wire::RESPONSE_SIZE> out,
                    SessionKeys& keys) {
  const std::string& zid_a = init.payload.zid;
  init.noise->set_psk(pair_psk(mesh_secret, zid_a, local.zid).span());
  init.noise->set_ephemeral(rnd.ephemeral_private.span());

  HandshakePayload payload{wire::PROTOCOL_VERSION, local.zid, zeqond, rnd.nonce};
  auto pbytes = encode_payload(payload);
  std::fill(out.begin(), out.end(), 0);
  out[0] = wire::kHandshakeResponse;
  store_be32(out.data() + wire::SENDER_INDEX_OFFSET, rnd.sender_index);
  store_be32(out.data() + wire::RESPONSE_RECEIVER_INDEX_OFFSET, init.sender_index);
  if (!init.noise->write_message(pbytes, out.data() + wire::RESPONSE_HEADER_SIZE)) return false;
  write_mac1(mac1_key_for(init.initiator_static), out);

  Key32 k1, k2;
  init.noise->split(k1, k2);
  Key32 k_mesh = mesh_key(mesh_secret, zid_a, local.zid, init.payload.nonce, rnd.nonce, init.payload.zeqond);
  derive_data_keys(k_mesh, k1, k2, keys.recv_key, keys.send_key);
  keys.local_index = rnd.sender_index;
  keys.remote_index = init.sender_index;
  keys.initiator = false;
  return true;
}

}  // namespace zeq
