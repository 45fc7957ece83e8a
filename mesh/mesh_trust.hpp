// The certificates side of the handshake (docs/protocol.md, "Mesh
// certificates" and "Handshake extensions"): which CAs this node trusts and
// their newest revocation lists, the certificate it sends, and the checks a
// certificate a peer sends must pass before the node admits or keeps that
// peer. Control thread only; pure decisions, no sockets.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/bytes.hpp"
#include "identity/certificate.hpp"
#include "protocol/handshake.hpp"

namespace zeq {

// What the daemon loads from `mesh:` (files) and hands the node.
struct TrustSettings {
  TrustStore store;                         // mesh.ca and mesh.revocations
  std::optional<Certificate> own;           // mesh.certificate
};

class MeshTrust {
 public:
  void set(std::shared_ptr<const TrustSettings> settings) { settings_ = std::move(settings); }
  const TrustSettings* settings() const { return settings_.get(); }
  // Whether this node trusts any CA (without one, certificates are not
  // asked for and those sent are ignored).
  bool has_anchors() const { return settings_ && !settings_->store.empty(); }
  const Certificate* own() const { return settings_ && settings_->own ? &*settings_->own : nullptr; }

  // The extension bytes of a message this node sends: its certificate, if
  // it has one; nothing (a v1 message) otherwise.
  Bytes extensions() const;

  // A certificate a peer sent in its handshake: decoded, trusted by a CA
  // held here, valid at now_z, not revoked, and for the static key and ZID
  // the handshake proved. kNone and the certificate, or why not.
  struct Proof {
    HandshakeReject verdict = HandshakeReject::kNone;
    std::optional<Certificate> certificate;  // set when there was one to decode
  };
  Proof check_extensions(ByteSpan extension_bytes, const PublicKey& static_key, const std::string& zid,
                         uint64_t now_z) const;
  // A certificate already admitted, against the trust in force now (after a
  // reload brought a new revocation list or CA set, or as time passes).
  HandshakeReject recheck(const Certificate& cert, uint64_t now_z) const;
  // Whether a trusted CA's revocation list names this key (every
  // certificate for it, and a YAML peer with it too).
  bool key_revoked(const PublicKey& key) const;

 private:
  std::shared_ptr<const TrustSettings> settings_;
};

HandshakeReject reject_for(CertVerdict verdict);

}  // namespace zeq
