#include "protocol/enrollment_messages.hpp"

#include <cstring>

namespace zeq::enroll {

namespace {

constexpr uint8_t VERSION = 1;
constexpr size_t HELLO_PAYLOAD = 1 + 32 + 16;
constexpr size_t MAX_MESSAGE = 512;

noise::HandshakeState::Options options(bool initiator, const X25519Keypair& s, std::optional<PublicKey> rs,
                                       std::optional<Key32> ephemeral) {
  noise::HandshakeState::Options o;
  o.pattern = noise::Pattern::IKpsk2;
  o.initiator = initiator;
  o.protocol_name = "Noise_IKpsk2_25519_AESGCM_SHA256";
  o.prologue = Bytes(PROLOGUE, PROLOGUE + sizeof PROLOGUE - 1);
  o.s = &s;
  o.rs = rs;
  o.ephemeral = std::move(ephemeral);
  return o;
}

Key32 key_of(std::span<const uint8_t, 32> b) {
  Key32 k;
  k.assign(b);
  return k;
}

// type(1) || AEAD(cipher, ad = type, plaintext)
Result<Bytes> seal_frame(noise::CipherState& c, uint8_t type, ByteSpan plaintext) {
  Bytes out(1 + plaintext.size() + noise::TAG_LEN);
  out[0] = type;
  if (!c.encrypt_with_ad(ByteSpan(out.data(), 1), plaintext, out.data() + 1)) return Status::error("enrollment: sealing failed");
  return out;
}

Result<Bytes> open_frame(noise::CipherState& c, uint8_t type, ByteSpan frame, const char* what) {
  if (frame.size() < 1 + noise::TAG_LEN || frame.size() > MAX_FRAME || frame[0] != type)
    return Status::error(std::string("enrollment: not a ") + what + " frame");
  Bytes out(frame.size() - 1 - noise::TAG_LEN);
  if (!c.decrypt_with_ad(frame.first(1), frame.subspan(1), out.data()))
    return Status::error(std::string("enrollment: the ") + what + " does not decrypt");
  return out;
}

void append_blob(Bytes& out, ByteSpan b) {
  append_be16(out, uint16_t(b.size()));
  out.insert(out.end(), b.begin(), b.end());
}

bool read_blob(const uint8_t*& p, const uint8_t* end, Bytes& out, size_t max) {
  if (end - p < 2) return false;
  size_t n = load_be16(p);
  p += 2;
  if (n > max || size_t(end - p) < n) return false;
  out.assign(p, p + n);
  p += n;
  return true;
}

}  // namespace

const char* join_status_name(JoinStatus s) {
  switch (s) {
    case JoinStatus::kOk: return "ok";
    case JoinStatus::kExpired: return "expired";
    case JoinStatus::kUsed: return "already_used";
    case JoinStatus::kRevoked: return "revoked";
    case JoinStatus::kOtherMesh: return "other_mesh";
    case JoinStatus::kFailed: return "failed";
  }
  return "unknown";
}

Bytes encode_answer(const JoinAnswer& a) {
  Bytes out;
  out.push_back(uint8_t(a.status));
  if (a.status != JoinStatus::kOk) {
    std::string m = a.message.substr(0, MAX_MESSAGE);
    append_blob(out, as_bytes(m));
    return out;
  }
  append_blob(out, a.certificate);
  append_blob(out, a.ca_public);
  append_blob(out, a.mesh_secret);
  append_blob(out, a.bootstrap_certificate);
  append_be16(out, a.udp_port);
  return out;
}

Result<JoinAnswer> decode_answer(ByteSpan b) {
  const uint8_t* p = b.data();
  const uint8_t* end = p + b.size();
  auto bad = [](const char* what) { return Status::error(std::string("enrollment answer: ") + what); };
  if (p == end) return bad("empty");
  JoinAnswer a;
  const uint8_t status = *p++;
  if (status > uint8_t(JoinStatus::kFailed)) return bad("unknown status");
  a.status = JoinStatus(status);
  if (a.status != JoinStatus::kOk) {
    Bytes m;
    if (!read_blob(p, end, m, MAX_MESSAGE) || p != end) return bad("malformed refusal");
    for (uint8_t c : m)
      if (c < 0x20 || c > 0x7e) return bad("refusal message is not printable text");
    a.message.assign(m.begin(), m.end());
    return a;
  }
  if (!read_blob(p, end, a.certificate, MAX_FRAME) || !read_blob(p, end, a.ca_public, MAX_FRAME) ||
      !read_blob(p, end, a.mesh_secret, 1024) || !read_blob(p, end, a.bootstrap_certificate, MAX_FRAME) ||
      end - p != 2)
    return bad("malformed");
  a.udp_port = load_be16(p);
  if (a.certificate.empty() || a.ca_public.empty() || a.mesh_secret.size() < 32 || a.bootstrap_certificate.empty() ||
      a.udp_port == 0)
    return bad("a field is missing");
  return a;
}

JoinerHandshake::JoinerHandshake(const InviteToken& token, const X25519Keypair& node,
                                 std::span<const uint8_t, 32> ephemeral)
    : mesh_id_(token.mesh_id), invite_id_(token.invite_id),
      hs_(options(true, node, token.bootstrap_key, key_of(ephemeral))) {
  hs_.set_psk(token.secret.span());
}

Result<Bytes> JoinerHandshake::hello() {
  Bytes payload;
  payload.push_back(VERSION);
  payload.insert(payload.end(), mesh_id_.begin(), mesh_id_.end());
  payload.insert(payload.end(), invite_id_.begin(), invite_id_.end());
  Bytes out(1 + hs_.message_size(payload.size()));
  out[0] = kHello;
  if (!hs_.write_message(payload, out.data() + 1)) return Status::error("enrollment: the hello could not be made");
  return out;
}

Status JoinerHandshake::read_challenge(ByteSpan frame) {
  Bytes payload;
  if (frame.empty() || frame[0] != kChallenge || frame.size() > MAX_FRAME || !hs_.read_message(frame.subspan(1), payload) ||
      !payload.empty())
    return Status::error("enrollment: the challenge does not decrypt");
  Key32 k1, k2;
  hs_.split(k1, k2);
  send_.initialize_key(k1.span());
  recv_.initialize_key(k2.span());
  return Status::ok();
}

Result<Bytes> JoinerHandshake::request(const Ed25519PublicKey& signing_public) {
  if (!send_.has_key()) return Status::error("enrollment: request before the challenge");
  Bytes body;
  body.push_back(VERSION);
  body.insert(body.end(), signing_public.begin(), signing_public.end());
  return seal_frame(send_, kRequest, body);
}

Result<JoinAnswer> JoinerHandshake::read_answer(ByteSpan frame) {
  if (!recv_.has_key()) return Status::error("enrollment: answer before the challenge");
  auto plain = open_frame(recv_, kAnswer, frame, "answer");
  if (!plain) return plain.status();
  auto a = decode_answer(*plain);
  secure_wipe(plain->data(), plain->size());
  return a;
}

BootstrapHandshake::BootstrapHandshake(const X25519Keypair& node) : hs_(options(false, node, std::nullopt, std::nullopt)) {}

Result<BootstrapHandshake::Hello> BootstrapHandshake::read_hello(ByteSpan frame) {
  Bytes payload;
  if (frame.empty() || frame[0] != kHello || frame.size() > MAX_FRAME || !hs_.read_message(frame.subspan(1), payload))
    return Status::error("enrollment: the hello does not decrypt (not made for this node's key)");
  if (payload.size() != HELLO_PAYLOAD || payload[0] != VERSION)
    return Status::error("enrollment: hello payload of " + std::to_string(payload.size()) + " bytes or an unknown version");
  Hello h;
  std::memcpy(h.mesh_id.data(), payload.data() + 1, 32);
  std::memcpy(h.invite_id.data(), payload.data() + 33, 16);
  if (!hs_.remote_static()) return Status::error("enrollment: hello without a static key");
  h.joiner = *hs_.remote_static();
  return h;
}

Result<Bytes> BootstrapHandshake::challenge(std::span<const uint8_t, 32> psk, std::span<const uint8_t, 32> ephemeral) {
  hs_.set_psk(psk);
  hs_.set_ephemeral(ephemeral);
  Bytes out(1 + hs_.message_size(0));
  out[0] = kChallenge;
  if (!hs_.write_message({}, out.data() + 1)) return Status::error("enrollment: the challenge could not be made");
  Key32 k1, k2;
  hs_.split(k1, k2);
  recv_.initialize_key(k1.span());
  send_.initialize_key(k2.span());
  return out;
}

Result<Ed25519PublicKey> BootstrapHandshake::read_request(ByteSpan frame) {
  if (!recv_.has_key()) return Status::error("enrollment: request before the challenge");
  auto plain = open_frame(recv_, kRequest, frame, "request (the proof of the invite's secret)");
  if (!plain) return plain.status();
  if (plain->size() != 33 || (*plain)[0] != VERSION) return Status::error("enrollment: malformed request");
  Ed25519PublicKey k{};
  std::memcpy(k.data(), plain->data() + 1, 32);
  proven_ = true;
  return k;
}

Result<Bytes> BootstrapHandshake::answer(const JoinAnswer& a) {
  // The mesh secret never leaves before the proof.
  if (!proven_) return Status::error("enrollment: answer before the proof");
  Bytes body = encode_answer(a);
  auto out = seal_frame(send_, kAnswer, body);
  secure_wipe(body.data(), body.size());
  return out;
}

}  // namespace zeq::enroll
