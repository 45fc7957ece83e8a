#include "cli/ca_commands.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <variant>

#include "cli/cert_output.hpp"
#include "core/bytes.hpp"
#include "core/clock.hpp"
#include "core/constants.hpp"
#include "identity/certificate.hpp"
#include "identity/key_file.hpp"
#include "identity/zid.hpp"
#include "loader/certificate_files.hpp"

namespace zeq::ctl {

namespace {

// zeqvpnctl's exit codes (zeqvpnctl.cpp): 1 the command failed, 2 bad arguments.
enum Exit { kOk = 0, kFailed = 1, kUsage = 2 };

// The options of every ca/cert subcommand; shared by their callbacks.
struct CaArgs {
  std::string name, dir = "/etc/zeqvpn/ca";
  std::string ca_key, public_key, signing_key, owner, zid, not_before, valid = "365d", out;
  std::vector<std::string> addresses, allowed_ips, roles, groups;
  std::string list;
  std::vector<std::string> revoke_certs, revoke_fingerprints, revoke_keys;
  std::string file, now;
  std::vector<std::string> cas, lists;
  bool json = false;
};

// Prints the error and hands back the exit code: commands return it, so
// every local (a CA seed) is wiped before the process exits.
int fail(int code, const std::string& message) {
  std::fprintf(stderr, "zeqvpnctl: %s\n", message.c_str());
  return code;
}

void finish(int code) {
  std::fflush(stdout);
  if (code != kOk) std::exit(code);
}

std::optional<uint64_t> parse_u64(std::string_view text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// A duration as Zeqonds, rounded up.
std::optional<uint64_t> duration_zeqonds(std::string_view text) {
  auto secs = duration_seconds(text);
  if (!secs) return std::nullopt;
  return (*secs * 1'000'000 + uint64_t(TAU_ZQ_US) - 1) / uint64_t(TAU_ZQ_US);
}

// --now Z, or the system clock's Zeqond.
std::optional<uint64_t> now_zeqond(const std::string& given) {
  if (given.empty()) return SystemClock().zeqond();
  return parse_u64(given);
}

void print_json(const nlohmann::json& j) { std::printf("%s\n", j.dump(2).c_str()); }

// The certificate body the options of `ca sign` describe, or the exit code
// of the first wrong option (already reported).
std::variant<CertificateBody, int> body_from_options(const CaArgs& a, uint64_t now) {
  CertificateBody b;
  b.name = a.name;
  auto pub = decode_key(a.public_key);
  if (!pub) return fail(kUsage, "ca sign: --public-key: expected the node's public key as `zeqvpnctl pubkey` prints it (44 base64 characters)");
  auto signing = decode_key(a.signing_key);
  if (!signing)
    return fail(kUsage, "ca sign: --signing-key: expected the node's signing key as `zeqvpnctl pubkey --signing` prints it");
  if (*pub == *signing)
    return fail(kUsage, "ca sign: --signing-key is the node's public key; give what `zeqvpnctl pubkey --signing` prints");
  b.x25519_public = *pub;
  b.signing_public = *signing;
  b.zid = a.zid.empty() ? zid_from_public_key(*pub) : a.zid;
  if (!is_valid_zid(b.zid)) return fail(kUsage, "ca sign: --zid " + a.zid + ": expected a ZID like zeq-0123456789ab");
  for (const auto& text : a.addresses) {
    auto p = parse_ip_prefix(text);
    if (!p) return fail(kUsage, "ca sign: --address " + text + ": expected an address and its prefix length, like 10.77.0.1/24 or fd77::1/64");
    b.addresses.push_back(*p);
  }
  for (const auto& text : a.allowed_ips) {
    auto p = parse_ip_prefix(text);
    if (!p) return fail(kUsage, "ca sign: --allowed-ips " + text + ": expected a prefix like 10.77.0.0/24 or fd77::/64");
    if (p->network() != *p)
      return fail(kUsage, "ca sign: --allowed-ips " + text + ": host bits set; write " + p->network().to_string());
    b.allowed_ips.push_back(*p);
  }
  if (a.allowed_ips.empty())  // the node's own addresses, as host prefixes
    for (IpPrefix p : b.addresses) {
      p.length = uint8_t(p.address_bytes() * 8);
      b.allowed_ips.push_back(p);
    }
  b.roles = 0;
  for (const auto& r : a.roles) b.roles |= r == "relay" ? CERT_ROLE_RELAY : CERT_ROLE_NODE;
  if (b.roles == 0) b.roles = CERT_ROLE_NODE;
  b.groups = a.groups;
  b.owner = a.owner;
  if (!b.owner.empty() && !is_valid_zid(b.owner))
    return fail(kUsage, "ca sign: --owner " + a.owner + ": expected the owner's Zeq Auth ZID, like zeq-0123456789ab");
  // Ten Zeqonds back by default: a node whose clock is a little behind the
  // CA's accepts the certificate at once.
  uint64_t start = now;
  if (a.not_before.empty()) {
    b.not_before_z = now >= 10 ? now - 10 : 0;
  } else {
    auto nb = parse_u64(a.not_before);
    if (!nb) return fail(kUsage, "ca sign: --not-before " + a.not_before + ": expected a Zeqond number");
    b.not_before_z = start = *nb;
  }
  auto span = duration_zeqonds(a.valid);
  if (!span) return fail(kUsage, "ca sign: --valid " + a.valid + ": expected a number and a unit, like 365d, 12h or 90m");
  if (start > UINT64_MAX - *span) return fail(kUsage, "ca sign: --valid " + a.valid + ": ends past the last Zeqond");
  b.not_after_z = start + *span;
  return b;
}

int ca_init(const CaArgs& a) {
  CaPrivateKey ca{a.name, ed25519_generate()};
  // The name's rules are the encoding's: what decodes is a good name.
  if (!decode_ca_public_key(encode_ca_public_key(ca.public_key())))
    return fail(kUsage, "ca init: --name " + a.name + ": use 1 to 64 characters of A-Z a-z 0-9 . _ -");
  if (Status s = write_ca_key_files(a.dir, ca); !s) return fail(kFailed, "ca init: " + s.message());
  std::printf("wrote %s/ca.key (the CA's private key, mode 0600: keep it offline and backed up) and %s/ca.pub (copy it "
              "to every node: mesh.ca)\nfingerprint %s\n",
              a.dir.c_str(), a.dir.c_str(), to_hex(ca.public_key().fingerprint()).c_str());
  return kOk;
}

int ca_sign(const CaArgs& a) {
  const uint64_t now = SystemClock().zeqond();
  auto body = body_from_options(a, now);
  if (const int* code = std::get_if<int>(&body)) return *code;
  auto ca = load_ca_private_key(a.ca_key);
  if (!ca) return fail(kFailed, "ca sign: " + ca.message());
  auto cert = sign_certificate(std::get<CertificateBody>(body), ca->key);
  if (!cert) return fail(kUsage, "ca sign: " + cert.message());
  const auto& b = cert->body;
  std::string fingerprint = to_hex(cert->fingerprint());
  std::string text = "# zeqvpn certificate for " + b.name + " (" + b.zid + "), valid until " +
                     zeqond_utc(b.not_after_z) + ", fingerprint " + fingerprint + "\n" +
                     armor(ARMOR_CERTIFICATE, cert->encoded);
  if (a.out.empty() || a.out == "-") {
    std::fputs(text.c_str(), stdout);
    return kOk;
  }
  if (Status s = replace_file(a.out, text, 0644); !s) return fail(kFailed, "ca sign: " + s.message());
  std::fprintf(stderr, "zeqvpnctl: wrote %s: %s (%s), Zeqonds %llu to %llu (%s), fingerprint %s\n", a.out.c_str(),
               b.name.c_str(), b.zid.c_str(), (unsigned long long)b.not_before_z, (unsigned long long)b.not_after_z,
               validity_summary(b, now).c_str(), fingerprint.c_str());
  return kOk;
}

int ca_revoke(const CaArgs& a) {
  if (a.revoke_certs.empty() && a.revoke_fingerprints.empty() && a.revoke_keys.empty())
    return fail(kUsage, "ca revoke: nothing to revoke; give --cert FILE, --fingerprint HEX or --public-key KEY (each may repeat)");
  auto ca = load_ca_private_key(a.ca_key);
  if (!ca) return fail(kFailed, "ca revoke: " + ca.message());
  const CaPublicKey pub = ca->public_key();
  RevocationList list;
  struct stat st{};
  if (::stat(a.list.c_str(), &st) == 0) {
    auto held = load_revocation_list(a.list);
    if (!held) return fail(kFailed, "ca revoke: " + held.message());
    if (!revocation_list_signed_by(*held, pub))
      return fail(kFailed, "ca revoke: " + a.list + " is not a revocation list signed by the CA in " + a.ca_key +
                               " (its issuer is " + to_hex(held->issuer) + ", the CA's fingerprint " +
                               to_hex(pub.fingerprint()) + "); give this CA's list, or a new path");
    list = *held;
  } else if (errno != ENOENT) {
    return fail(kFailed, "ca revoke: " + a.list + ": " + std::strerror(errno) + "; check the path and its permissions");
  }
  const size_t before = list.certificates.size() + list.keys.size();
  for (const auto& path : a.revoke_certs) {
    auto cert = load_certificate(path);
    if (!cert) return fail(kFailed, "ca revoke: " + cert.message());
    if (cert->body.issuer != pub.fingerprint())
      return fail(kFailed, "ca revoke: " + path + " was issued by the CA " + to_hex(cert->body.issuer) +
                               ", not by this one (" + to_hex(pub.fingerprint()) + "); revoke it in that CA's list");
    list.certificates.push_back(cert->fingerprint());
  }
  for (const auto& hex : a.revoke_fingerprints) {
    auto bytes = from_hex(hex);
    if (!bytes || bytes->size() != 32)
      return fail(kUsage, "ca revoke: --fingerprint " + hex + ": expected 64 hex digits, as `zeqvpnctl cert show` prints");
    Digest32 d{};
    std::copy(bytes->begin(), bytes->end(), d.begin());
    list.certificates.push_back(d);
  }
  for (const auto& text : a.revoke_keys) {
    auto key = decode_key(text);
    if (!key) return fail(kUsage, "ca revoke: --public-key " + text + ": expected a public key as `zeqvpnctl pubkey` prints it");
    list.keys.push_back(*key);
  }
  if (list.serial == UINT64_MAX) return fail(kFailed, "ca revoke: " + a.list + " has the last serial; start a new list with a new CA");
  list.serial += 1;
  list.issued_z = SystemClock().zeqond();
  auto signed_list = sign_revocation_list(std::move(list), ca->key);
  if (!signed_list) return fail(kFailed, "ca revoke: " + signed_list.message());
  const size_t after = signed_list->certificates.size() + signed_list->keys.size();
  std::string text = "# zeqvpn revocation list of CA \"" + pub.name + "\" (" + to_hex(pub.fingerprint()) +
                     "), serial " + std::to_string(signed_list->serial) + "\n" +
                     armor(ARMOR_REVOCATION_LIST, signed_list->encoded);
  if (Status s = replace_file(a.list, text, 0644); !s) return fail(kFailed, "ca revoke: " + s.message());
  std::printf("%s: serial %llu, %zu entries (%zu new); copy it to every node (mesh.revocations) and reload them\n",
              a.list.c_str(), (unsigned long long)signed_list->serial, after, after - before);
  return kOk;
}

int cert_show(const CaArgs& a, bool json) {
  auto now = now_zeqond(a.now);
  if (!now) return fail(kUsage, "cert show: --now " + a.now + ": expected a Zeqond number");
  auto text = load_armored_text(a.file);
  if (!text) return fail(kFailed, "cert show: " + text.message());
  // The first block in the file decides what it is.
  std::string_view kinds[] = {ARMOR_CERTIFICATE, ARMOR_REVOCATION_LIST, ARMOR_CA_PUBLIC_KEY};
  std::string_view kind;
  size_t first = std::string::npos;
  for (auto k : kinds) {
    size_t at = text->find("-----BEGIN ZEQVPN " + std::string(k) + "-----");
    if (at < first) first = at, kind = k;
  }
  if (kind.empty())
    return fail(kFailed, "cert show: " + a.file + " holds no ZEQVPN CERTIFICATE, REVOCATION LIST or CA PUBLIC KEY "
                         "block; give a file that `zeqvpnctl ca sign`, `ca revoke` or `ca init` wrote");
  auto bytes = dearmor(kind, *text);
  if (!bytes) return fail(kFailed, "cert show: " + a.file + ": " + bytes.message());
  auto damaged = [&](const std::string& why) { return fail(kFailed, "cert show: " + a.file + ": " + why); };
  if (kind == ARMOR_CERTIFICATE) {
    auto cert = decode_certificate(*bytes);
    if (!cert) return damaged(cert.message());
    if (json) print_json(certificate_json(*cert, *now));
    else std::fputs(format_certificate(*cert, *now).c_str(), stdout);
  } else if (kind == ARMOR_REVOCATION_LIST) {
    auto list = decode_revocation_list(*bytes);
    if (!list) return damaged(list.message());
    if (json) print_json(revocation_list_json(*list));
    else std::fputs(format_revocation_list(*list).c_str(), stdout);
  } else {
    auto ca = decode_ca_public_key(*bytes);
    if (!ca) return damaged(ca.message());
    nlohmann::json j = {{"kind", "ca_public_key"}, {"name", ca->name}, {"fingerprint", to_hex(ca->fingerprint())},
                        {"public_key", encode_key(ca->key)}};
    if (json) print_json(j);
    else std::printf("CA public key\n  name          %s\n  fingerprint   %s\n  key           %s\n", ca->name.c_str(),
                     to_hex(ca->fingerprint()).c_str(), encode_key(ca->key).c_str());
  }
  return kOk;
}

int cert_verify(const CaArgs& a) {
  auto now = now_zeqond(a.now);
  if (!now) return fail(kUsage, "cert verify: --now " + a.now + ": expected a Zeqond number");
  auto cert = load_certificate(a.file);
  if (!cert) return fail(kFailed, "cert verify: " + cert.message());
  TrustStore trust;
  for (const auto& path : a.cas) {
    auto ca = load_ca_public_key(path);
    if (!ca) return fail(kFailed, "cert verify: " + ca.message());
    trust.add_ca(*ca);
  }
  for (const auto& path : a.lists) {
    auto list = load_revocation_list(path);
    if (!list) return fail(kFailed, "cert verify: " + list.message());
    if (Status s = trust.add_revocation_list(*list); !s) return fail(kFailed, "cert verify: --list " + path + ": " + s.message());
  }
  CertVerdict verdict = trust.check(*cert, *now);
  if (verdict == CertVerdict::kValid) {
    std::printf("valid\n");
    return kOk;
  }
  std::printf("%s: %s\n", cert_verdict_name(verdict), verdict_reason(verdict, *cert, trust, *now).c_str());
  return kFailed;
}

}  // namespace

void add_ca_commands(CLI::App& app) {
  auto a = std::make_shared<CaArgs>();
  auto* ca = app.add_subcommand("ca", "mesh authority (offline): make a CA, sign node certificates, revoke them");
  ca->require_subcommand(1);

  auto* init = ca->add_subcommand("init", "make a CA: DIR/ca.key (mode 0600) and DIR/ca.pub; print its fingerprint");
  init->add_option("--name", a->name, "the CA's name: 1 to 64 of A-Z a-z 0-9 . _ -")->required();
  init->add_option("--dir", a->dir, "where to write ca.key and ca.pub (neither is replaced)")->capture_default_str();
  init->callback([a] { finish(ca_init(*a)); });

  auto* sign = ca->add_subcommand("sign", "sign a node's certificate (armoured, to --out or stdout)");
  sign->add_option("--ca-key", a->ca_key, "the CA's private key file (ca.key)")->required();
  sign->add_option("--name", a->name, "the node's name: 1 to 64 of A-Z a-z 0-9 . _ -")->required();
  sign->add_option("--public-key", a->public_key, "the node's public key (`zeqvpnctl pubkey`)")->required();
  sign->add_option("--signing-key", a->signing_key, "the node's signing key (`zeqvpnctl pubkey --signing`)")->required();
  sign->add_option("--address", a->addresses, "the node's address with its length (repeat, 1 to 8)")
      ->required()
      ->delimiter(',');
  sign->add_option("--allowed-ips", a->allowed_ips, "prefixes the node may send from (default: its addresses as /32, /128)")
      ->delimiter(',');
  sign->add_option("--roles", a->roles, "node, relay or node,relay (default node)")
      ->delimiter(',')
      ->check(CLI::IsMember({"node", "relay"}));
  sign->add_option("--groups", a->groups, "groups the node is in, comma-separated (up to 16)")->delimiter(',');
  sign->add_option("--owner", a->owner, "the owner's Zeq Auth ZID");
  sign->add_option("--zid", a->zid, "the node's ZID (default: the one of its public key)");
  sign->add_option("--not-before", a->not_before, "first valid Zeqond (default: now minus 10)");
  sign->add_option("--valid", a->valid, "how long it is valid: 365d, 12h, 90m, 45s")->capture_default_str();
  sign->add_option("--out", a->out, "write the certificate to FILE (replaced atomically) instead of stdout");
  sign->callback([a] { finish(ca_sign(*a)); });

  auto* revoke = ca->add_subcommand("revoke", "add certificates or keys to the CA's revocation list (serial + 1)");
  revoke->add_option("--ca-key", a->ca_key, "the CA's private key file (ca.key)")->required();
  revoke->add_option("--list", a->list, "the revocation list file (made when missing, replaced atomically)")->required();
  revoke->add_option("--cert", a->revoke_certs, "a certificate file to revoke (repeat)");
  revoke->add_option("--fingerprint", a->revoke_fingerprints, "a certificate fingerprint to revoke, 64 hex (repeat)");
  revoke->add_option("--public-key", a->revoke_keys, "a node public key to revoke with all its certificates (repeat)");
  revoke->callback([a] { finish(ca_revoke(*a)); });

  auto* cert = app.add_subcommand("cert", "mesh certificates and revocation lists: show or verify a file (offline)");
  cert->require_subcommand(1);
  auto* show = cert->add_subcommand("show", "every field of a certificate, revocation list or ca.pub");
  show->add_option("FILE", a->file, "an armoured file")->required();
  show->add_flag("--json", a->json, "print JSON");
  show->add_option("--now", a->now, "the Zeqond to count expiry from (default: now)");
  show->callback([a, &app] {
    const CLI::Option* global = app.get_option_no_throw("--json");
    finish(cert_show(*a, a->json || (global && global->count() > 0)));
  });
  auto* verify = cert->add_subcommand("verify", "check a certificate: exit 0 and \"valid\", or 1 and why not");
  verify->add_option("FILE", a->file, "the certificate file")->required();
  verify->add_option("--ca", a->cas, "a trusted CA's ca.pub (repeat)")->required();
  verify->add_option("--list", a->lists, "a revocation list file (repeat)");
  verify->add_option("--now", a->now, "the Zeqond to check at (default: now)");
  verify->callback([a] { finish(cert_verify(*a)); });
}

std::optional<uint64_t> duration_seconds(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  uint64_t unit_s = 0;
  switch (text.back()) {
    case 's': unit_s = 1; break;
    case 'm': unit_s = 60; break;
    case 'h': unit_s = 3600; break;
    case 'd': unit_s = 86400; break;
    default: return std::nullopt;
  }
  auto n = parse_u64(text.substr(0, text.size() - 1));
  if (!n || *n == 0 || *n > UINT64_MAX / unit_s / 1'000'000) return std::nullopt;
  return *n * unit_s;
}

}  // namespace zeq::ctl
