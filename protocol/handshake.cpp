#include "protocol/handshake.hpp"

#include <algorithm>

#include "core/constants.hpp"
#include "protocol/cookie.hpp"

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
    case HandshakeReject::kCertMalformed: return "cert_malformed";
    case HandshakeReject::kCertUnknownIssuer: return "cert_unknown_issuer";
    case HandshakeReject::kCertBadSignature: return "cert_bad_signature";
    case HandshakeReject::kCertNotYetValid: return "cert_not_yet_valid";
    case HandshakeReject::kCertExpired: return "cert_expired";
    case HandshakeReject::kCertRevoked: return "cert_revoked";
    case HandshakeReject::kCertKeyMismatch: return "cert_key_mismatch";
    case HandshakeReject::kCertMissing: return "cert_missing";
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

// Header of a message carrying `extensions` bytes of extensions: type,
// then zero (v1) or the flag and the length.
void write_header(uint8_t type, size_t extensions, MutableByteSpan out) {
  std::fill(out.begin(), out.end(), 0);
  out[0] = type;
  if (extensions == 0) return;
  out[wire::HEADER_FLAGS_OFFSET] = wire::EXTENSIONS_FLAG;
  store_be16(out.data() + wire::HEADER_EXTENSIONS_LENGTH_OFFSET, uint16_t(extensions));
}

// The payload plaintext: the v1 payload, then the extension bytes.
Bytes payload_with(const HandshakePayload& payload, ByteSpan extensions) {
  auto fixed = encode_payload(payload);
  Bytes out(fixed.begin(), fixed.end());
  out.insert(out.end(), extensions.begin(), extensions.end());
  return out;
}

// Splits a decrypted payload into the v1 payload and the extension bytes
// the header announced.
std::optional<HandshakePayload> split_payload(const Bytes& plain, size_t extensions, Bytes& extension_bytes) {
  if (plain.size() != wire::PAYLOAD_SIZE + extensions) return std::nullopt;
  extension_bytes.assign(plain.begin() + long(wire::PAYLOAD_SIZE), plain.end());
  return decode_payload(ByteSpan(plain.data(), wire::PAYLOAD_SIZE));
}

size_t extension_length(ByteSpan message) {
  return message[wire::HEADER_FLAGS_OFFSET] == wire::EXTENSIONS_FLAG
             ? load_be16(message.data() + wire::HEADER_EXTENSIONS_LENGTH_OFFSET)
             : 0;
}

}  // namespace

size_t initiation_size(size_t extension_bytes) { return wire::INIT_SIZE + extension_bytes; }
size_t response_size(size_t extension_bytes) { return wire::RESPONSE_SIZE + extension_bytes; }

std::unique_ptr<InitiatorHandshake> InitiatorHandshake::start(const LocalIdentity& local, const PeerKey& peer,
                                                              ByteSpan mesh_secret, uint64_t zeqond,
                                                              const HandshakeRandomness& rnd, ByteSpan extensions,
                                                              MutableByteSpan out) {
  if (extensions.size() > wire::MAX_EXTENSIONS_SIZE || out.size() != initiation_size(extensions.size())) return nullptr;
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
  hs->sent_extensions_ = !extensions.empty();

  HandshakePayload payload{wire::PROTOCOL_VERSION, local.zid, zeqond, rnd.nonce};
  auto pbytes = payload_with(payload, extensions);
  write_header(wire::kHandshakeInit, extensions.size(), out);
  store_be32(out.data() + wire::SENDER_INDEX_OFFSET, rnd.sender_index);
  if (!hs->noise_->write_message(pbytes, out.data() + wire::INIT_HEADER_SIZE)) return nullptr;
  write_mac1(mac1_key_for(peer.public_key), out);
  return hs;
}

HandshakeReject InitiatorHandshake::finish(ByteSpan message, uint64_t now_zeqond, ByteSpan mesh_secret,
                                           SessionKeys& keys) {
  if (message.size() < wire::RESPONSE_SIZE || message[0] != wire::kHandshakeResponse ||
      handshake_base_size(message) != message.size())
    return HandshakeReject::kBadSize;
  const size_t extensions = extension_length(message);
  if (load_be32(message.data() + wire::RESPONSE_RECEIVER_INDEX_OFFSET) != sender_index_) return HandshakeReject::kUnexpected;
  if (!verify_mac1(own_mac1_key_, message)) return HandshakeReject::kBadMac1;
  // Work on a copy: a forged response (mac1 needs only our public key) must
  // not spoil the handshake that the real response will complete.
  noise::HandshakeState attempt = *noise_;
  Bytes plain;
  auto noise_part = message.subspan(wire::RESPONSE_HEADER_SIZE, wire::RESPONSE_NOISE_SIZE + extensions);
  if (!attempt.read_message(noise_part, plain)) return HandshakeReject::kBadNoise;
  Bytes extension_bytes;
  auto payload = split_payload(plain, extensions, extension_bytes);
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
  received_extensions_ = std::move(extension_bytes);
  return HandshakeReject::kNone;
}

HandshakeReject read_initiation(const LocalIdentity& local, const Digest32& own_mac1_key, ByteSpan message,
                                ReceivedInitiation& out) {
  if (message.size() < wire::INIT_SIZE || message[0] != wire::kHandshakeInit ||
      handshake_base_size(message) != message.size())
    return HandshakeReject::kBadSize;
  if (!verify_mac1(own_mac1_key, message)) return HandshakeReject::kBadMac1;
  const size_t extensions = extension_length(message);
  // The responder's ephemeral is chosen in write_response, once it answers.
  auto opts = noise_options(false, local);
  out.noise = std::make_unique<noise::HandshakeState>(opts);
  Bytes plain;
  if (!out.noise->read_message(message.subspan(wire::INIT_HEADER_SIZE, wire::INIT_NOISE_SIZE + extensions), plain))
    return HandshakeReject::kBadNoise;
  auto payload = split_payload(plain, extensions, out.extensions);
  if (!payload) return HandshakeReject::kBadPayload;
  out.had_extensions = extensions > 0;
  out.payload = *payload;
  out.sender_index = load_be32(message.data() + wire::SENDER_INDEX_OFFSET);
  out.initiator_static = *out.noise->remote_static();
  return HandshakeReject::kNone;
}

bool write_response(ReceivedInitiation& init, const LocalIdentity& local, ByteSpan mesh_secret, uint64_t zeqond,
                    const HandshakeRandomness& rnd, ByteSpan extensions, MutableByteSpan out, SessionKeys& keys) {
  if (extensions.size() > wire::MAX_EXTENSIONS_SIZE || out.size() != response_size(extensions.size())) return false;
  const std::string& zid_a = init.payload.zid;
  init.noise->set_psk(pair_psk(mesh_secret, zid_a, local.zid).span());
  init.noise->set_ephemeral(rnd.ephemeral_private.span());

  HandshakePayload payload{wire::PROTOCOL_VERSION, local.zid, zeqond, rnd.nonce};
  auto pbytes = payload_with(payload, extensions);
  write_header(wire::kHandshakeResponse, extensions.size(), out);
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
