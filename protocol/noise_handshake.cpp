#include "protocol/noise_handshake.hpp"

#include <algorithm>

#include "crypto/aead.hpp"
#include "crypto/hash.hpp"

namespace zeq::noise {

// ---- CipherState -----------------------------------------------------------

std::array<uint8_t, 12> CipherState::nonce() const {
  // AESGCM nonce: 32 bits of zeros, then the 64-bit counter big-endian.
  std::array<uint8_t, 12> iv{};
  store_be64(iv.data() + 4, n_);
  return iv;
}

bool CipherState::encrypt_with_ad(ByteSpan ad, ByteSpan plaintext, uint8_t* out) {
  if (!has_key_) {
    std::copy(plaintext.begin(), plaintext.end(), out);
    return true;
  }
  auto iv = nonce();
  if (!aes256gcm_seal(k_.span(), iv, ad, plaintext, out)) return false;
  ++n_;
  return true;
}

bool CipherState::decrypt_with_ad(ByteSpan ad, ByteSpan ciphertext, uint8_t* out) {
  if (!has_key_) {
    std::copy(ciphertext.begin(), ciphertext.end(), out);
    return true;
  }
  auto iv = nonce();
  if (!aes256gcm_open(k_.span(), iv, ad, ciphertext, out)) return false;
  ++n_;
  return true;
}

// ---- HandshakeState --------------------------------------------------------

HandshakeState::HandshakeState(const Options& o)
    : pattern_(o.pattern), initiator_(o.initiator), psk_mode_(o.pattern == Pattern::IKpsk2),
      ephemeral_(o.ephemeral), rs_(o.rs) {
  // InitializeSymmetric: h = name padded with zeros, or hashed when longer.
  if (o.protocol_name.size() <= HASH_LEN) {
    std::copy(o.protocol_name.begin(), o.protocol_name.end(), h_.begin());
  } else {
    h_ = sha256(as_bytes(o.protocol_name));
  }
  ck_.assign(h_);
  mix_hash(o.prologue);
  if (o.s) {
    s_.private_key = o.s->private_key;
    s_.public_key = o.s->public_key;
    has_s_ = true;
  }
  if (o.psk) set_psk(o.psk->span());
  // IK pre-message "<- s": both sides hash the responder's static key.
  if (pattern_ != Pattern::NN) {
    if (initiator_) {
      if (rs_) mix_hash(*rs_);
    } else {
      mix_hash(s_.public_key);
    }
  }
}

std::vector<HandshakeState::Token> HandshakeState::tokens(size_t message_index) const {
  switch (pattern_) {
    case Pattern::NN:
      if (message_index == 0) return {Token::E};
      return {Token::E, Token::EE};
    case Pattern::IK:
      if (message_index == 0) return {Token::E, Token::ES, Token::S, Token::SS};
      return {Token::E, Token::EE, Token::SE};
    case Pattern::IKpsk2:
      if (message_index == 0) return {Token::E, Token::ES, Token::S, Token::SS};
      return {Token::E, Token::EE, Token::SE, Token::PSK};
  }
  return {};
}

void HandshakeState::mix_hash(ByteSpan data) { h_ = sha256({ByteSpan(h_), data}); }

void HandshakeState::mix_key(ByteSpan ikm) {
  SecretBytes<64> out;
  hkdf_sha256(ck_.span(), ikm, {}, out.mutable_span());
  ck_.assign(std::span<const uint8_t>(out.data(), 32));
  cipher_.initialize_key(std::span<const uint8_t, 32>(out.data() + 32, 32));
}

void HandshakeState::mix_key_and_hash(ByteSpan ikm) {
  SecretBytes<96> out;
  hkdf_sha256(ck_.span(), ikm, {}, out.mutable_span());
  ck_.assign(std::span<const uint8_t>(out.data(), 32));
  mix_hash(std::span<const uint8_t>(out.data() + 32, 32));
  cipher_.initialize_key(std::span<const uint8_t, 32>(out.data() + 64, 32));
}

bool HandshakeState::encrypt_and_hash(ByteSpan plaintext, uint8_t* out) {
  if (!cipher_.encrypt_with_ad(h_, plaintext, out)) return false;
  mix_hash(ByteSpan(out, plaintext.size() + cipher_.overhead()));
  return true;
}

bool HandshakeState::decrypt_and_hash(ByteSpan ciphertext, uint8_t* out) {
  std::array<uint8_t, 32> h_before = h_;
  if (!cipher_.decrypt_with_ad(h_before, ciphertext, out)) return false;
  mix_hash(ciphertext);
  return true;
}

bool HandshakeState::dh_mix(const Key32& priv, const PublicKey& pub) {
  Key32 shared;
  if (!x25519_dh(priv.span(), pub, shared.mutable_span())) return false;
  mix_key(shared.span());
  return true;
}

size_t HandshakeState::message_size(size_t payload_len) const {
  size_t size = 0;
  bool keyed = cipher_.has_key();
  for (Token t : tokens(message_index_)) {
    switch (t) {
      case Token::E: size += DH_LEN; if (psk_mode_) keyed = true; break;
      case Token::S: size += DH_LEN + (keyed ? TAG_LEN : 0); break;
      default: keyed = true; break;  // every DH and psk token leaves a key
    }
  }
  return size + payload_len + (keyed ? TAG_LEN : 0);
}

bool HandshakeState::write_message(ByteSpan payload, uint8_t* out) {
  if (finished()) return false;
  bool local_is_initiator_msg = (message_index_ == 0) == initiator_;
  if (!local_is_initiator_msg) return false;
  for (Token t : tokens(message_index_)) {
    switch (t) {
      case Token::E: {
        if (!ephemeral_) return false;
        e_ = x25519_from_private(ephemeral_->span());
        ephemeral_.reset();  // used once; e_ holds it from here
        std::copy(e_.public_key.begin(), e_.public_key.end(), out);
        out += DH_LEN;
        mix_hash(e_.public_key);
        if (psk_mode_) mix_key(e_.public_key);
        break;
      }
      case Token::S: {
        if (!has_s_) return false;
        size_t len = DH_LEN + cipher_.overhead();
        if (!encrypt_and_hash(s_.public_key, out)) return false;
        out += len;
        break;
      }
      case Token::EE: if (!dh_mix(e_.private_key, re_)) return false; break;
      case Token::ES:
        if (initiator_ ? !dh_mix(e_.private_key, *rs_) : !dh_mix(s_.private_key, re_)) return false;
        break;
      case Token::SE:
        if (initiator_ ? !dh_mix(s_.private_key, re_) : !dh_mix(e_.private_key, *rs_)) return false;
        break;
      case Token::SS: if (!dh_mix(s_.private_key, *rs_)) return false; break;
      case Token::PSK:
        if (!has_psk_) return false;
        mix_key_and_hash(psk_.span());
        break;
    }
  }
  if (!encrypt_and_hash(payload, out)) return false;
  ++message_index_;
  return true;
}

bool HandshakeState::read_message(ByteSpan message, Bytes& payload) {
  if (finished()) return false;
  bool remote_is_initiator_msg = (message_index_ == 0) != initiator_;
  if (!remote_is_initiator_msg) return false;
  ByteSpan rest = message;
  for (Token t : tokens(message_index_)) {
    switch (t) {
      case Token::E:
        if (rest.size() < DH_LEN) return false;
        std::copy_n(rest.begin(), DH_LEN, re_.begin());
        rest = rest.subspan(DH_LEN);
        mix_hash(re_);
        if (psk_mode_) mix_key(re_);
        break;
      case Token::S: {
        size_t len = DH_LEN + cipher_.overhead();
        if (rest.size() < len) return false;
        PublicKey rs{};
        if (!decrypt_and_hash(rest.first(len), rs.data())) return false;
        rs_ = rs;
        rest = rest.subspan(len);
        break;
      }
      case Token::EE: if (!dh_mix(e_.private_key, re_)) return false; break;
      case Token::ES:
        if (initiator_ ? !dh_mix(e_.private_key, *rs_) : !dh_mix(s_.private_key, re_)) return false;
        break;
      case Token::SE:
        if (initiator_ ? !dh_mix(s_.private_key, re_) : !dh_mix(e_.private_key, *rs_)) return false;
        break;
      case Token::SS: if (!dh_mix(s_.private_key, *rs_)) return false; break;
      case Token::PSK:
        if (!has_psk_) return false;
        mix_key_and_hash(psk_.span());
        break;
    }
  }
  if (rest.size() < cipher_.overhead()) return false;
  payload.resize(rest.size() - cipher_.overhead());
  if (!decrypt_and_hash(rest, payload.data())) return false;
  ++message_index_;
  return true;
}

void HandshakeState::split(Key32& k1, Key32& k2) const {
  SecretBytes<64> out;
  hkdf_sha256(ck_.span(), {}, {}, out.mutable_span());
  k1.assign(std::span<const uint8_t>(out.data(), 32));
  k2.assign(std::span<const uint8_t>(out.data() + 32, 32));
}

}  // namespace zeq::noise
