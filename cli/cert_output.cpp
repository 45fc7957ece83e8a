#include "cli/cert_output.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "core/bytes.hpp"
#include "core/constants.hpp"
#include "identity/key_file.hpp"

namespace zeq::ctl {

namespace {

// The last second a calendar date of four digits shows (9999-12-31 23:59:59).
constexpr int64_t LAST_DATE_UNIX_S = 253402300799;

std::string roles_text(uint8_t roles) {
  std::string out;
  if (roles & CERT_ROLE_NODE) out += "node";
  if (roles & CERT_ROLE_RELAY) out += out.empty() ? "relay" : ",relay";
  return out;
}

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : separator) + s;
  return out.empty() ? "(none)" : out;
}

std::vector<std::string> prefixes_text(const std::vector<IpPrefix>& list) {
  std::vector<std::string> out;
  for (const auto& p : list) out.push_back(p.to_string());
  return out;
}

// "3 days" or, under a day, "5 hours" / "12 minutes".
std::string span_text(double seconds) {
  auto unit = [](double n, const char* name) {
    long v = long(std::floor(n));
    return std::to_string(v) + " " + name + (v == 1 ? "" : "s");
  };
  if (seconds >= 86400) return unit(seconds / 86400, "day");
  if (seconds >= 3600) return unit(seconds / 3600, "hour");
  return unit(seconds / 60, "minute");
}

double zeqonds_to_seconds(double z) { return z * TAU_ZQ; }

// One "  label   value" line of the text output.
void row(std::string& out, const char* label, const std::string& value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "  %-13s ", label);
  out += buf + value + "\n";
}

std::string when(uint64_t z) { return std::to_string(z) + " (" + zeqond_utc(z) + ")"; }

}  // namespace

std::string zeqond_utc(uint64_t z, bool iso) {
  if (z > uint64_t(LAST_DATE_UNIX_S) * 1'000'000 / uint64_t(TAU_ZQ_US)) return "after 9999-12-31";
  time_t t = time_t(int64_t(z) * TAU_ZQ_US / 1'000'000);
  struct tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string validity_summary(const CertificateBody& body, uint64_t now_z) {
  if (now_z < body.not_before_z)
    return "not valid yet: valid in " + span_text(zeqonds_to_seconds(double(body.not_before_z - now_z)));
  if (now_z >= body.not_after_z)
    return "expired " + span_text(zeqonds_to_seconds(double(now_z - body.not_after_z))) + " ago";
  return "expires in " + span_text(zeqonds_to_seconds(double(body.not_after_z - now_z)));
}

nlohmann::json certificate_json(const Certificate& cert, uint64_t now_z) {
  const auto& b = cert.body;
  double days = zeqonds_to_seconds(double(b.not_after_z) - double(now_z)) / 86400;
  return {
      {"kind", "certificate"},
      {"fingerprint", to_hex(cert.fingerprint())},
      {"name", b.name},
      {"zid", b.zid},
      {"public_key", encode_key(b.x25519_public)},
      {"signing_key", encode_key(b.signing_public)},
      {"addresses", prefixes_text(b.addresses)},
      {"allowed_ips", prefixes_text(b.allowed_ips)},
      {"roles", b.roles & CERT_ROLE_RELAY ? (b.roles & CERT_ROLE_NODE ? nlohmann::json{"node", "relay"}
                                                                      : nlohmann::json{"relay"})
                                          : nlohmann::json{"node"}},
      {"groups", b.groups},
      {"owner", b.owner.empty() ? nlohmann::json(nullptr) : nlohmann::json(b.owner)},
      {"not_before_z", b.not_before_z},
      {"not_before_utc", zeqond_utc(b.not_before_z, true)},
      {"not_after_z", b.not_after_z},
      {"not_after_utc", zeqond_utc(b.not_after_z, true)},
      {"now_z", now_z},
      {"expires_in_days", std::floor(days * 100) / 100},
      {"validity", validity_summary(b, now_z)},
      {"issuer", to_hex(b.issuer)},
      {"signature", to_hex(cert.signature)},
      {"bytes", cert.encoded.size()},
  };
}

std::string format_certificate(const Certificate& cert, uint64_t now_z) {
  const auto& b = cert.body;
  std::string out = "certificate\n";
  row(out, "fingerprint", to_hex(cert.fingerprint()));
  row(out, "name", b.name);
  row(out, "zid", b.zid);
  row(out, "public key", encode_key(b.x25519_public));
  row(out, "signing key", encode_key(b.signing_public));
  row(out, "addresses", join(prefixes_text(b.addresses), ", "));
  row(out, "allowed ips", join(prefixes_text(b.allowed_ips), ", "));
  row(out, "roles", roles_text(b.roles));
  row(out, "groups", join(b.groups, ", "));
  row(out, "owner", b.owner.empty() ? "(none)" : b.owner);
  row(out, "not before", when(b.not_before_z));
  row(out, "not after", when(b.not_after_z));
  row(out, "validity", validity_summary(b, now_z) + " (now " + std::to_string(now_z) + ")");
  row(out, "issuer", to_hex(b.issuer) + " (the CA's fingerprint)");
  row(out, "size", std::to_string(cert.encoded.size()) + " bytes; the signature is checked by `cert verify`");
  return out;
}

nlohmann::json revocation_list_json(const RevocationList& list) {
  std::vector<std::string> certs, keys;
  for (const auto& d : list.certificates) certs.push_back(to_hex(d));
  for (const auto& k : list.keys) keys.push_back(encode_key(k));
  return {
      {"kind", "revocation_list"},
      {"fingerprint", to_hex(sha256(list.encoded))},
      {"issuer", to_hex(list.issuer)},
      {"serial", list.serial},
      {"issued_z", list.issued_z},
      {"issued_utc", zeqond_utc(list.issued_z, true)},
      {"certificates", certs},
      {"keys", keys},
      {"signature", to_hex(list.signature)},
  };
}

std::string format_revocation_list(const RevocationList& list) {
  std::string out = "revocation list\n";
  row(out, "fingerprint", to_hex(sha256(list.encoded)));
  row(out, "issuer", to_hex(list.issuer) + " (the CA's fingerprint)");
  row(out, "serial", std::to_string(list.serial));
  row(out, "issued", when(list.issued_z));
  row(out, "certificates", std::to_string(list.certificates.size()) + " revoked by fingerprint");
  for (const auto& d : list.certificates) out += "    " + to_hex(d) + "\n";
  row(out, "keys", std::to_string(list.keys.size()) + " revoked with every certificate for them");
  for (const auto& k : list.keys) out += "    " + encode_key(k) + "\n";
  return out;
}

std::string verdict_reason(CertVerdict verdict, const Certificate& cert, const TrustStore& trust, uint64_t now_z) {
  const auto& b = cert.body;
  const CaPublicKey* ca = nullptr;
  for (const auto& c : trust.cas())
    if (c.fingerprint() == b.issuer) ca = &c;
  std::string ca_name = ca ? "CA \"" + ca->name + "\"" : "its CA";
  switch (verdict) {
    case CertVerdict::kValid: return "";
    case CertVerdict::kUnknownIssuer: {
      std::string known;
      for (const auto& c : trust.cas()) known += (known.empty() ? "" : ", ") + to_hex(c.fingerprint());
      return "issued by the CA with fingerprint " + to_hex(b.issuer) + ", which is none of the --ca keys (" + known +
             "); give that CA's ca.pub";
    }
    case CertVerdict::kBadSignature:
      return "the signature does not verify under " + ca_name +
             "'s key: the file was altered or damaged; get it again from the mesh authority";
    case CertVerdict::kNotYetValid:
      return "valid only from Zeqond " + when(b.not_before_z) + ", now is " + std::to_string(now_z) +
             "; wait, or check this machine's clock";
    case CertVerdict::kExpired:
      return "it ended at Zeqond " + when(b.not_after_z) + ", now is " + std::to_string(now_z) +
             "; have it renewed (`zeqvpnctl ca sign`)";
    case CertVerdict::kRevoked: {
      const RevocationList* list = trust.revocation_list(b.issuer);
      bool by_key = list && std::binary_search(list->keys.begin(), list->keys.end(), b.x25519_public);
      return ca_name + "'s revocation list (serial " + std::to_string(list ? list->serial : 0) + ") names " +
             (by_key ? "its public key; the node needs a new key and certificate"
                     : "its fingerprint; sign a new one if the node is still to be trusted");
    }
    case CertVerdict::kKeyMismatch: return "not the key the handshake proved";
  }
  return "";
}

}  // namespace zeq::ctl
