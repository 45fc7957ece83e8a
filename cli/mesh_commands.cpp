#include "cli/mesh_commands.hpp"

#include "cli/ca_commands.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include "cli/cert_output.hpp"
#include "config/config.hpp"
#include "core/bytes.hpp"
#include "core/clock.hpp"
#include "core/constants.hpp"
#include "crypto/random.hpp"
#include "identity/certificate.hpp"
#include "identity/key_file.hpp"
#include "identity/zid.hpp"
#include "loader/certificate_files.hpp"
#include "loader/loader.hpp"
#include "protocol/enrollment_messages.hpp"

namespace zeq::ctl {

namespace {

enum Exit { kOk = 0, kFailed = 1, kUsage = 2 };

struct MeshArgs {
  std::string name, network, dir = "/etc/zeqvpn", node_name, state = "/var/lib/zeqvpn/state.db",
                                socket = "/run/zeqvpn/zeqvpnd.sock", interface = "zeq0";
  std::vector<std::string> advertise;
  int listen_port = 51820, enroll_port = 51821, timeout_s = 10;
  std::string roles = "node", expires = "1h", token, invite;
};

[[noreturn]] void die(int code, const std::string& message) {
  std::fprintf(stderr, "zeqvpnctl: %s\n", message.c_str());
  std::exit(code);
}

bool exists(const std::string& path) {
  struct stat st{};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string fresh_hex32() {
  std::array<uint8_t, 32> b{};
  random_fill(b);
  std::string hex = to_hex(b);
  secure_wipe(b.data(), b.size());
  return hex;
}

std::string hostname_label() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "node";
  std::string out;
  for (char c : std::string(buf))
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') out += c;
  if (out.empty()) out = "node";
  return out.substr(0, 64);
}

void make_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
    die(kFailed, path + ": cannot create the directory (" + std::strerror(errno) + "); check the path and permissions");
}

void write_new(const std::string& path, const std::string& text, mode_t mode) {
  if (Status s = write_new_file(path, text, mode); !s) die(kFailed, s.message());
}

// Secrets go to a file of their own, mode 0600, as NAME=value (a
// LoadCredential= file or EnvironmentFile= line as it is).
void write_credential(const std::string& dir, const char* name, std::string hex) {
  std::string text = std::string(name) + "=" + hex + "\n";
  Status s = write_new_file(dir + "/" + name, text, 0600);
  secure_wipe(text.data(), text.size());
  secure_wipe(hex.data(), hex.size());
  if (!s) die(kFailed, s.message());
}

std::string cert_text(const Certificate& cert) {
  const auto& b = cert.body;
  return "# zeqvpn certificate for " + b.name + " (" + b.zid + "), valid until " + zeqond_utc(b.not_after_z) +
         ", fingerprint " + to_hex(cert.fingerprint()) + "\n" + armor(ARMOR_CERTIFICATE, cert.encoded);
}

std::string start_hint(const std::string& dir) {
  return "start the service: systemctl enable --now zeqvpnd (the unit reads " + dir + "/zeqvpn.yaml and " + dir +
         "/credentials), or without systemd: CREDENTIALS_DIRECTORY=" + dir + "/credentials zeqvpnd --config " + dir +
         "/zeqvpn.yaml";
}

// systemd runs zeqvpnd as user zeqvpn (systemd/zeqvpn-unit.service.in):
// the files it reads itself (not the credentials, which systemd hands it)
// become its own when that user exists and we are root.
void give_to_service_user(const std::vector<std::string>& own, const std::string& group_only) {
  const passwd* pw = ::getpwnam("zeqvpn");
  if (!pw || ::geteuid() != 0) return;
  for (const auto& path : own)
    if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0)
      std::fprintf(stderr, "zeqvpnctl: warning: chown zeqvpn %s: %s\n", path.c_str(), std::strerror(errno));
  if (::chown(group_only.c_str(), uid_t(-1), pw->pw_gid) != 0)
    std::fprintf(stderr, "zeqvpnctl: warning: chgrp zeqvpn %s: %s\n", group_only.c_str(), std::strerror(errno));
}

// Refuses when DIR already holds a node: "this machine is already in a mesh".
void refuse_existing(const std::string& dir, const char* command) {
  for (const char* f : {"zeqvpn.yaml", "node.key", "node.crt", "ca/ca.key", "ca.pub", "credentials/ZEQ_MESH_SECRET",
                        "credentials/ZEQ_FIELD_KEY"}) {
    std::string path = dir + "/" + f;
    if (!exists(path)) continue;
    std::string mesh;
    if (auto c = load_config_file(dir + "/zeqvpn.yaml"); c && !c->mesh.ca.empty())
      if (auto ca = load_ca_public_key(c->mesh.ca.front())) mesh = " (mesh \"" + ca->name + "\")";
    die(kFailed, std::string("mesh ") + command + ": " +
                     (mesh.empty() ? "this machine already has a zeqvpn node" : "this machine is already in a mesh" + mesh) +
                     ": " + path +
                     " exists; nothing was changed. Stop zeqvpnd and move " + dir +
                     "'s zeqvpn.yaml, node.key, node.crt, ca/ and credentials/ aside first, or give another --dir");
  }
}

// A join uses the invite up: what would stop its files being written is
// checked before anything is sent (DIR, or its parent when DIR is new).
void check_writable(const std::string& dir, const char* command) {
  std::string where = dir;
  if (!exists(dir)) {
    const size_t slash = dir.find_last_of('/');
    where = slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash);
  }
  if (::access(where.c_str(), W_OK | X_OK) != 0)
    die(kFailed, std::string("mesh ") + command + ": " + where + " is not a directory this user can write (" +
                     std::strerror(errno) + "); nothing was sent and the invite is still unused: run as root or give "
                     "another --dir");
}

// ---- mesh init ----

int mesh_init(const MeshArgs& a) {
  auto net = parse_ip_prefix(a.network);
  if (!net || net->network() != *net || int(net->address_bytes() * 8) - net->length < 2)
    die(kUsage, "mesh init: --network " + a.network + ": expected a network with host bits zero and room for hosts, like 10.77.0.0/16");
  std::vector<UdpEndpoint> advertise;
  for (const auto& text : a.advertise) {
    auto ep = parse_udp_endpoint(text);
    if (!ep) ep = parse_udp_endpoint(text.find(':') != std::string::npos && text.front() != '['
                                         ? "[" + text + "]:" + std::to_string(a.enroll_port)
                                         : text + ":" + std::to_string(a.enroll_port));
    if (!ep) die(kUsage, "mesh init: --advertise " + text + ": expected an address joiners reach this node on, like 198.51.100.7 or 198.51.100.7:51821");
    advertise.push_back(*ep);
  }
  if (advertise.size() > 4) die(kUsage, "mesh init: at most 4 --advertise endpoints fit in a token");
  const std::string node_name = a.node_name.empty() ? hostname_label() : a.node_name;
  refuse_existing(a.dir, "init");
  CaPrivateKey ca{a.name, ed25519_generate()};
  if (!decode_ca_public_key(encode_ca_public_key(ca.public_key())))
    die(kUsage, "mesh init: --name " + a.name + ": use 1 to 64 characters of A-Z a-z 0-9 . _ -");
  X25519Keypair node = x25519_generate();
  const uint64_t now = SystemClock().zeqond();
  CertificateBody b;
  b.name = node_name;
  b.zid = zid_from_public_key(node.public_key);
  b.x25519_public = node.public_key;
  b.signing_public = node_signing_keypair(node.private_key.span()).public_key;
  IpPrefix first = *net;
  first.addr[first.address_bytes() - 1] |= 1;  // the network's first host
  b.addresses = {first};
  IpPrefix host = first;
  host.length = uint8_t(host.address_bytes() * 8);
  b.allowed_ips = {host};
  b.roles = CERT_ROLE_NODE;
  b.not_before_z = now - 10;
  b.not_after_z = now + EnrollmentConfig{}.certificate_valid_z;
  auto cert = sign_certificate(b, ca.key);
  if (!cert) die(kUsage, "mesh init: --node-name " + node_name + ": " + cert.message());

  make_dir(a.dir, 0755);
  if (Status s = write_ca_key_files(a.dir + "/ca", ca); !s) die(kFailed, "mesh init: " + s.message());
  std::string key_text = encode_key(node.private_key.span()) + "\n";
  Status ks = write_new_file(a.dir + "/node.key", key_text, 0600);
  secure_wipe(key_text.data(), key_text.size());
  if (!ks) die(kFailed, "mesh init: " + ks.message());
  write_new(a.dir + "/node.crt", cert_text(*cert), 0644);
  make_dir(a.dir + "/credentials", 0700);
  write_credential(a.dir + "/credentials", "ZEQ_MESH_SECRET", fresh_hex32());
  write_credential(a.dir + "/credentials", "ZEQ_FIELD_KEY", fresh_hex32());
  std::string adv;
  for (const auto& e : advertise) adv += (adv.empty() ? "" : ", ") + std::string("\"") + e.to_string() + "\"";
  std::string yaml = "# zeqvpn node \"" + node_name + "\", first node and mesh authority of mesh \"" + a.name +
                     "\" (written by `zeqvpnctl mesh init`)\n"
                     "interface:\n  name: " + a.interface + "\n  addresses: [" + first.to_string() +
                     "]\n  listen_port: " + std::to_string(a.listen_port) + "\n  identity_key_file: " + a.dir +
                     "/node.key\nmesh:\n  ca: [" + a.dir + "/ca/ca.pub]\n  certificate: " + a.dir +
                     "/node.crt\n"
                     "# Joins (`zeqvpnctl mesh invite` on this node, `mesh join TOKEN` on the new one).\n"
                     "enrollment:\n  listen: \"0.0.0.0:" + std::to_string(a.enroll_port) + "\"\n  ca_key: " + a.dir +
                     "/ca/ca.key\n  network: " + net->to_string() + "\n" +
                     (adv.empty() ? "" : "  advertise: [" + adv + "]\n") + "control: {socket: " + a.socket +
                     "}\nstate: {database: " + a.state + "}\n";
  if (auto parsed = parse_config(yaml, a.dir + "/zeqvpn.yaml"); !parsed)
    die(kUsage, "mesh init: the configuration would be invalid: " + parsed.message());
  write_new(a.dir + "/zeqvpn.yaml", yaml, 0640);
  give_to_service_user({a.dir + "/node.key", a.dir + "/ca", a.dir + "/ca/ca.key"}, a.dir + "/zeqvpn.yaml");
  std::printf("mesh \"%s\" created (CA fingerprint %s); this node is %s (%s), address %s\n", a.name.c_str(),
              to_hex(ca.public_key().fingerprint()).c_str(), node_name.c_str(), b.zid.c_str(), first.to_string().c_str());
  std::printf("wrote %s/zeqvpn.yaml, node.key (0600), node.crt, ca/ca.key (0600: the mesh authority), ca/ca.pub, "
              "credentials/ZEQ_MESH_SECRET and credentials/ZEQ_FIELD_KEY (0600)\n", a.dir.c_str());
  std::printf("%s\nthen add a node: zeqvpnctl mesh invite --name laptop (joins come in on TCP %d)\n",
              start_hint(a.dir).c_str(), a.enroll_port);
  return kOk;
}

// ---- mesh invite / invites / revoke ----

int mesh_invite(const MeshArgs& a, const MeshControl& c) {
  auto secs = duration_seconds(a.expires);
  if (!secs) die(kUsage, "mesh invite: --expires " + a.expires + ": expected a number and a unit, like 1h, 30m or 7d");
  auto r = c.call("mesh_invite", {{"name", a.name}, {"roles", a.roles}, {"expires_s", *secs}});
  if (c.json()) {
    std::printf("%s\n", r.dump(2).c_str());
    return kOk;
  }
  std::string token = r.value("token", "");
  std::printf("%s\n", token.c_str());
  secure_wipe(token.data(), token.size());
  std::fprintf(stderr, "zeqvpnctl: invite %s for \"%s\" (roles %s) to mesh \"%s\", single use, expires %s; on the new "
                       "machine: zeqvpnctl mesh join TOKEN\n",
               r.value("id", "").substr(0, 8).c_str(), r.value("name", "").c_str(), r.value("roles", "").c_str(),
               r.value("mesh", "").c_str(), zeqond_utc(r.value("expires_z", uint64_t(0))).c_str());
  return kOk;
}

int mesh_invites(const MeshControl& c) {
  auto r = c.call("mesh_invites", nlohmann::json::object());
  if (c.json()) {
    std::printf("%s\n", r.dump(2).c_str());
    return kOk;
  }
  std::printf("%-9s %-20s %-8s %-10s %-24s %-17s %s\n", "ID", "NAME", "ROLES", "STATE", "EXPIRES", "USED BY", "ADDRESS");
  for (const auto& i : r["invites"])
    std::printf("%-9s %-20s %-8s %-10s %-24s %-17s %s\n", i.value("id", "").substr(0, 8).c_str(),
                i.value("name", "").c_str(), i.value("roles", "").c_str(), i.value("state", "").c_str(),
                zeqond_utc(i.value("expires_z", uint64_t(0))).c_str(),
                i.value("used_by", "").empty() ? "-" : i.value("used_by", "").c_str(),
                i.value("address", "").empty() ? "-" : i.value("address", "").c_str());
  return kOk;
}

int mesh_revoke(const MeshArgs& a, const MeshControl& c) {
  auto r = c.call("mesh_revoke", {{"invite", a.invite}});
  if (c.json()) std::printf("%s\n", r.dump(2).c_str());
  else std::printf("invite %s (%s) revoked\n", r.value("id", "").substr(0, 8).c_str(), r.value("name", "").c_str());
  return kOk;
}

// ---- mesh join ----

// A TCP connection with a deadline on every operation.
class Connection {
 public:
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Empty when connected; otherwise why not.
  std::string connect(const UdpEndpoint& ep, int timeout_ms) {
    fd_ = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) return std::strerror(errno);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&ep.sa), sizeof ep.sa) == 0) return "";
    if (errno != EINPROGRESS) return std::strerror(errno);
    pollfd p{fd_, POLLOUT, 0};
    int n = ::poll(&p, 1, timeout_ms);
    if (n == 0) return "no answer within " + std::to_string(timeout_ms / 1000) + " s";
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    return err ? std::strerror(err) : "";
  }
  bool send_frame(const Bytes& frame, int timeout_ms) {
    Bytes out;
    append_be16(out, uint16_t(frame.size()));
    out.insert(out.end(), frame.begin(), frame.end());
    size_t done = 0;
    while (done < out.size()) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
      ssize_t n = ::send(fd_, out.data() + done, out.size() - done, MSG_NOSIGNAL);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return false;
      if (n > 0) done += size_t(n);
    }
    return true;
  }
  // nullopt: closed or timed out (closed_ says which).
  std::optional<Bytes> read_frame(int timeout_ms) {
    std::array<uint8_t, 2> len{};
    if (!read_exact(len.data(), 2, timeout_ms)) return std::nullopt;
    size_t n = load_be16(len.data());
    if (n == 0 || n > enroll::MAX_FRAME) return std::nullopt;
    Bytes b(n);
    if (!read_exact(b.data(), n, timeout_ms)) return std::nullopt;
    return b;
  }
  bool timed_out() const { return timed_out_; }

 private:
  bool read_exact(uint8_t* p, size_t n, int timeout_ms) {
    size_t done = 0;
    while (done < n) {
      pollfd q{fd_, POLLIN, 0};
      int r = ::poll(&q, 1, timeout_ms);
      if (r == 0) timed_out_ = true;
      if (r <= 0) return false;
      ssize_t got = ::recv(fd_, p + done, n - done, 0);
      if (got == 0) return false;
      if (got < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        return false;
      }
      done += size_t(got);
    }
    return true;
  }
  int fd_ = -1;
  bool timed_out_ = false;
};

int mesh_join(const MeshArgs& a) {
  // "-": the token from standard input, out of the process list and the
  // shell's history.
  std::string text = a.token;
  if (text == "-") {
    char line[enroll::MAX_TOKEN_TEXT + 4] = {};
    text = std::fgets(line, sizeof line, stdin) ? line : "";
    secure_wipe(line, sizeof line);
  }
  auto token = enroll::decode_token(text);
  secure_wipe(text.data(), text.size());
  if (!token) die(kUsage, "mesh join: " + token.message());
  const std::string mesh = "\"" + token->mesh_name + "\"";
  refuse_existing(a.dir, "join");
  check_writable(a.dir, "join");
  const uint64_t now = SystemClock().zeqond();
  if (now > token->expires_z)
    die(kFailed, "mesh join: the invite to mesh " + mesh + " expired at " + zeqond_utc(token->expires_z) +
                     "; ask its operator for a new one (`zeqvpnctl mesh invite --name NAME`)");
  const int timeout_ms = a.timeout_s * 1000;
  X25519Keypair node = x25519_generate();
  Key32 ephemeral;
  random_fill(ephemeral.mutable_span());
  enroll::JoinerHandshake hs(*token, node, ephemeral.span());
  ephemeral.wipe();

  std::unique_ptr<Connection> connection;
  std::optional<UdpEndpoint> bootstrap;
  std::string tried;
  for (const auto& ep : token->endpoints) {
    auto attempt = std::make_unique<Connection>();
    std::string why = attempt->connect(ep, timeout_ms);
    if (why.empty()) {
      bootstrap = ep;
      connection = std::move(attempt);
      break;
    }
    tried += (tried.empty() ? "" : ", ") + ep.to_string() + " (" + why + ")";
  }
  if (!bootstrap)
    die(kFailed, "mesh join: bootstrap unreachable: " + tried + "; check that zeqvpnd runs on the node that made the "
                 "invite (with enrollment.listen) and that this machine can reach that TCP port");
  Connection& conn = *connection;
  const std::string where = bootstrap->to_string();
  auto hello = hs.hello();
  if (!hello || !conn.send_frame(*hello, timeout_ms))
    die(kFailed, "mesh join: bootstrap " + where + " unreachable: the connection failed while sending; try again");
  auto challenge = conn.read_frame(timeout_ms);
  if (!challenge)
    die(kFailed, "mesh join: the bootstrap node at " + where + " closed the exchange" +
                     (conn.timed_out() ? " (no answer within " + std::to_string(a.timeout_s) + " s)" : "") +
                     ": it is not the node this token names (a token for another mesh, or that node's key changed); "
                     "ask for a new invite");
  if (Status s = hs.read_challenge(*challenge); !s)
    die(kFailed, "mesh join: the bootstrap node at " + where + " refused the invite: the token's secret does not "
                 "match an invite there (the token was altered or mistyped); copy the whole token again or ask for a new one");
  const Ed25519Keypair signing = node_signing_keypair(node.private_key.span());
  auto request = hs.request(signing.public_key);
  if (!request || !conn.send_frame(*request, timeout_ms))
    die(kFailed, "mesh join: bootstrap " + where + " unreachable: the connection failed while sending; try again");
  auto frame = conn.read_frame(timeout_ms);
  if (!frame) die(kFailed, "mesh join: the bootstrap node at " + where + " closed the exchange before answering; look at its log");
  auto answer = hs.read_answer(*frame);
  if (!answer) die(kFailed, "mesh join: the bootstrap node at " + where + " sent a damaged answer (" + answer.message() + ")");
  switch (answer->status) {
    case enroll::JoinStatus::kOk: break;
    case enroll::JoinStatus::kExpired: die(kFailed, "mesh join: token expired: " + answer->message);
    case enroll::JoinStatus::kUsed: die(kFailed, "mesh join: token already used: " + answer->message);
    case enroll::JoinStatus::kRevoked: die(kFailed, "mesh join: token revoked: " + answer->message);
    case enroll::JoinStatus::kOtherMesh: die(kFailed, "mesh join: token for another mesh: " + answer->message);
    case enroll::JoinStatus::kFailed: die(kFailed, "mesh join: refused: " + answer->message);
  }
  // Everything received is checked before anything is written.
  auto cert = decode_certificate(answer->certificate);
  auto ca = decode_ca_public_key(answer->ca_public);
  auto boot = decode_certificate(answer->bootstrap_certificate);
  if (!cert || !ca || !boot) die(kFailed, "mesh join: the bootstrap node at " + where + " sent a damaged certificate");
  if (ca->fingerprint() != token->mesh_id)
    die(kFailed, "mesh join: the bootstrap node at " + where + " answered for mesh \"" + ca->name + "\" (" +
                     to_hex(ca->fingerprint()) + "), not the token's " + mesh + ": a token for another mesh; nothing was written");
  if (!certificate_signed_by(*cert, *ca) || cert->body.x25519_public != node.public_key ||
      !certificate_signed_by(*boot, *ca) || boot->body.x25519_public != token->bootstrap_key)
    die(kFailed, "mesh join: the certificates from " + where + " do not check out against the mesh CA; nothing was written");
  if (answer->mesh_secret.size() < 32) die(kFailed, "mesh join: the mesh secret received is too short; nothing was written");

  make_dir(a.dir, 0755);
  std::string key_text = encode_key(node.private_key.span()) + "\n";
  Status ks = write_new_file(a.dir + "/node.key", key_text, 0600);
  secure_wipe(key_text.data(), key_text.size());
  if (!ks) die(kFailed, "mesh join: " + ks.message());
  write_new(a.dir + "/ca.pub", "# zeqvpn mesh CA \"" + ca->name + "\", fingerprint " + to_hex(ca->fingerprint()) +
                                   "\n" + armor(ARMOR_CA_PUBLIC_KEY, answer->ca_public),
            0644);
  write_new(a.dir + "/node.crt", cert_text(*cert), 0644);
  make_dir(a.dir + "/credentials", 0700);
  write_credential(a.dir + "/credentials", "ZEQ_MESH_SECRET", to_hex(answer->mesh_secret));
  write_credential(a.dir + "/credentials", "ZEQ_FIELD_KEY", fresh_hex32());
  // The bootstrap node is the first peer: its tunnel port at the address
  // the exchange went to. Every other node comes from the directory.
  UdpEndpoint peer_ep = *bootstrap;
  peer_ep.sa.sin6_port = htons(answer->udp_port);
  std::string allowed;
  for (const auto& p : boot->body.allowed_ips) allowed += (allowed.empty() ? "" : ", ") + p.to_string();
  const auto& b = cert->body;
  std::string yaml = "# zeqvpn node \"" + b.name + "\" of mesh \"" + ca->name + "\" (written by `zeqvpnctl mesh join`)\n"
                     "interface:\n  name: " + a.interface + "\n  addresses: [" + b.addresses.front().to_string() +
                     "]\n  listen_port: " + std::to_string(a.listen_port) + "\n  identity_key_file: " + a.dir +
                     "/node.key\npeers:\n  - name: " + boot->body.name + "\n    public_key: " +
                     encode_key(boot->body.x25519_public) + "\n    endpoint: \"" + peer_ep.to_string() +
                     "\"\n    allowed_ips: [" + allowed + "]\nmesh:\n  ca: [" + a.dir + "/ca.pub]\n  certificate: " +
                     a.dir + "/node.crt\ncontrol: {socket: " + a.socket + "}\nstate: {database: " + a.state + "}\n";
  if (auto parsed = parse_config(yaml, a.dir + "/zeqvpn.yaml"); !parsed)
    die(kFailed, "mesh join: the configuration would be invalid: " + parsed.message());
  write_new(a.dir + "/zeqvpn.yaml", yaml, 0640);
  give_to_service_user({a.dir + "/node.key"}, a.dir + "/zeqvpn.yaml");
  std::printf("joined mesh \"%s\" as %s (%s), address %s, through %s (%s)\n", ca->name.c_str(), b.name.c_str(),
              b.zid.c_str(), b.addresses.front().to_string().c_str(), boot->body.name.c_str(), where.c_str());
  std::printf("wrote %s/zeqvpn.yaml, node.key (0600), node.crt, ca.pub, credentials/ZEQ_MESH_SECRET and "
              "credentials/ZEQ_FIELD_KEY (0600)\n%s\n", a.dir.c_str(), start_hint(a.dir).c_str());
  return kOk;
}

}  // namespace

void add_mesh_commands(CLI::App& app, MeshControl control) {
  auto a = std::make_shared<MeshArgs>();
  auto c = std::make_shared<MeshControl>(std::move(control));
  auto* mesh = app.add_subcommand("mesh", "one-command onboarding: init a mesh, invite nodes, join one");
  mesh->require_subcommand(1);

  auto* init = mesh->add_subcommand("init", "make a mesh on its first node: authority, secrets, key, certificate, config");
  init->add_option("--name", a->name, "the mesh's name: 1 to 64 of A-Z a-z 0-9 . _ -")->required();
  init->add_option("--network", a->network, "the tunnel network, like 10.77.0.0/16 (this node takes its first address)")->required();
  init->add_option("--node-name", a->node_name, "this node's name (default: the host name)");
  init->add_option("--dir", a->dir, "where the configuration, key, certificate, CA and credentials go")->capture_default_str();
  init->add_option("--advertise", a->advertise, "an address (or address:port) joiners reach this node on; default: its local addresses (repeat, up to 4)");
  init->add_option("--listen-port", a->listen_port, "the tunnel's UDP port")->capture_default_str()->check(CLI::Range(1, 65535));
  init->add_option("--enroll-port", a->enroll_port, "the TCP port joins come in on")->capture_default_str()->check(CLI::Range(1, 65535));
  init->add_option("--interface", a->interface, "the tunnel interface's name")->capture_default_str();
  init->add_option("--socket", a->socket, "control socket path written to the configuration")->capture_default_str();
  init->add_option("--state", a->state, "state database path written to the configuration")->capture_default_str();
  init->callback([a] { std::exit(mesh_init(*a)); });

  auto* invite = mesh->add_subcommand("invite", "print a single-use, expiring invite token for a new node (asks zeqvpnd)");
  invite->add_option("--name", a->name, "the new node's name (its certificate's)")->required();
  invite->add_option("--roles", a->roles, "node, relay or node,relay")->capture_default_str()
      ->check(CLI::IsMember({"node", "relay", "node,relay", "relay,node"}));
  invite->add_option("--expires", a->expires, "how long the token may be used: 1h, 30m, 7d")->capture_default_str();
  invite->callback([a, c] { std::exit(mesh_invite(*a, *c)); });

  mesh->add_subcommand("invites", "the invites zeqvpnd recorded: open, used (by whom, which address), revoked, expired")
      ->callback([c] { std::exit(mesh_invites(*c)); });

  auto* revoke = mesh->add_subcommand("revoke", "revoke an open invite before it is used");
  revoke->add_option("INVITE", a->invite, "the invite's id (or its first 8+ hex digits) or name")->required();
  revoke->callback([a, c] { std::exit(mesh_revoke(*a, *c)); });

  auto* join = mesh->add_subcommand("join", "join a mesh with an invite token: key, certificate, secrets and config");
  join->add_option("TOKEN", a->token, "the token `zeqvpnctl mesh invite` printed, or - to read it from standard input")->required();
  join->add_option("--dir", a->dir, "where the configuration, key, certificate and credentials go")->capture_default_str();
  join->add_option("--listen-port", a->listen_port, "the tunnel's UDP port")->capture_default_str()->check(CLI::Range(1, 65535));
  join->add_option("--interface", a->interface, "the tunnel interface's name")->capture_default_str();
  join->add_option("--socket", a->socket, "control socket path written to the configuration")->capture_default_str();
  join->add_option("--state", a->state, "state database path written to the configuration")->capture_default_str();
  join->add_option("--timeout", a->timeout_s, "seconds to wait for the bootstrap node at each step")->capture_default_str()
      ->check(CLI::Range(1, 300));
  join->callback([a] { std::exit(mesh_join(*a)); });
}

}  // namespace zeq::ctl
