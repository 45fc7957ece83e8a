#include "daemon/enrollment_service.hpp"

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <algorithm>
#include <list>
#include <map>

#include <spdlog/spdlog.h>

#include "core/bytes.hpp"
#include "daemon/local_endpoints.hpp"
#include "identity/zid.hpp"
#include "protocol/enrollment_messages.hpp"
#include "store/invite_store.hpp"

namespace zeq {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// The next two are also in metrics_http_server.cpp: Boost.Asio stays out of headers
// (tests/layering), so each of the daemon's two TCP listeners keeps a copy.
// A listen address as config keeps it (UdpEndpoint: IPv6, or v4-mapped).
boost::asio::ip::tcp::endpoint tcp_endpoint(const UdpEndpoint& address) {
  namespace ip = boost::asio::ip;
  const auto* a = reinterpret_cast<const uint8_t*>(&address.sa.sin6_addr);
  const uint16_t port = ntohs(address.sa.sin6_port);
  if (IN6_IS_ADDR_V4MAPPED(&address.sa.sin6_addr)) {
    ip::address_v4::bytes_type v4;
    std::memcpy(v4.data(), a + 12, 4);
    return {ip::address_v4(v4), port};
  }
  ip::address_v6::bytes_type v6;
  std::memcpy(v6.data(), a, 16);
  return {ip::address_v6(v6, address.sa.sin6_scope_id), port};
}

// Accepts connections one after another for `owner` (its acceptor, a
// retry timer, a stopped flag and admit(socket)), until it stops. After a
// failed accept (out of file descriptors, say) it waits 1 s: trying again at
// once would spin.
template <class Owner>
void accept_connections(std::shared_ptr<Owner> owner, const char* what) {
  owner->acceptor.async_accept([owner, what](boost::system::error_code ec, boost::asio::ip::tcp::socket sock) {
    if (owner->stopped || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      spdlog::warn("{}: accepting a connection failed: {}; trying again in 1 s", what, ec.message());
      owner->retry.expires_after(std::chrono::seconds(1));
      owner->retry.async_wait([owner, what](boost::system::error_code wait) {
        if (!wait && !owner->stopped) accept_connections(owner, what);
      });
      return;
    }
    owner->admit(std::move(sock));
    accept_connections(owner, what);
  });
}

std::string shown(const tcp::endpoint& ep) {
  return endpoint_from_sockaddr(ep.data(), socklen_t(ep.size())).to_string();
}

bool unspecified(const UdpEndpoint& ep) {
  const auto* a = reinterpret_cast<const uint8_t*>(&ep.sa.sin6_addr);
  return IN6_IS_ADDR_V4MAPPED(&ep.sa.sin6_addr) ? (a[12] | a[13] | a[14] | a[15]) == 0
                                                : IN6_IS_ADDR_UNSPECIFIED(&ep.sa.sin6_addr);
}

std::string hex_id(const enroll::InviteId& id) { return to_hex(id); }

bool good_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

nlohmann::json invite_json(const InviteRow& r) {
  std::string roles = (r.roles & CERT_ROLE_NODE) ? "node" : "";
  if (r.roles & CERT_ROLE_RELAY) roles += roles.empty() ? "relay" : ",relay";
  return {{"id", r.id},           {"name", r.name},       {"roles", roles},
          {"created_z", r.created_z}, {"expires_z", r.expires_z}, {"state", r.state},
          {"changed_z", r.changed_z}, {"used_by", r.used_by_zid}, {"address", r.address}};
}

}  // namespace

struct EnrollmentService::Impl : std::enable_shared_from_this<EnrollmentService::Impl> {
  Impl(asio::io_context& io, Database& db, Vault& vault, const Clock& c, RandomSource& r, EnrollmentSettings s)
      : acceptor(io), retry(io), invites(db, vault), clock(c), random(r), settings(std::move(s)) {}

  struct Session : std::enable_shared_from_this<Session> {
    Session(std::shared_ptr<Impl> owner, tcp::socket sock, tcp::endpoint peer)
        : server(std::move(owner)), socket(std::move(sock)), timer(socket.get_executor()), from(peer),
          handshake(server->settings.node_key) {}

    void begin() {
      timer.expires_after(std::chrono::seconds(EXCHANGE_TIMEOUT_S));
      timer.async_wait([self = shared_from_this()](error_code ec) {
        if (ec) return;
        ++self->server->counters.timed_out;
        spdlog::info("enrollment: {} did not finish the exchange within {} s; closed", shown(self->from),
                     EXCHANGE_TIMEOUT_S);
        self->close();
      });
      read_frame([](Session& s, ByteSpan f) { s.on_hello(f); });
    }

    template <typename Next>
    void read_frame(Next next) {
      asio::async_read(socket, asio::buffer(length), [self = shared_from_this(), next](error_code ec, size_t) {
        if (ec) return self->close();
        const size_t n = load_be16(self->length.data());
        if (n == 0 || n > enroll::MAX_FRAME) return self->close();
        self->frame.resize(n);
        asio::async_read(self->socket, asio::buffer(self->frame), [self, next](error_code ec2, size_t) {
          if (ec2) return self->close();
          next(*self, self->frame);
        });
      });
    }

    void send(const Bytes& body, bool last) {
      out.clear();
      append_be16(out, uint16_t(body.size()));
      out.insert(out.end(), body.begin(), body.end());
      asio::async_write(socket, asio::buffer(out), [self = shared_from_this(), last](error_code ec, size_t) {
        secure_wipe(self->out.data(), self->out.size());
        if (ec || last) return self->close();
        self->read_frame([](Session& s, ByteSpan f) { s.on_request(f); });
      });
    }

    void on_hello(ByteSpan f) {
      auto hello = handshake.read_hello(f);
      if (!hello) {
        ++server->counters.bad_hello;
        spdlog::info("enrollment: {}: {}; closed", shown(from), hello.message());
        return close();
      }
      joiner = hello->joiner;
      invite_id = hex_id(hello->invite_id);
      other_mesh = hello->mesh_id != server->settings.ca.public_key().fingerprint();
      // The invite's secret is the psk. An unknown invite gets a random one,
      // so that it and a wrong secret look alike to whoever sent the hello.
      Key32 psk;
      known = server->invite_secret(invite_id, psk);
      if (!known) server->random.fill(psk.mutable_span());
      Key32 ephemeral;
      server->random.fill(ephemeral.mutable_span());
      auto challenge = handshake.challenge(psk.span(), ephemeral.span());
      if (!challenge) return close();
      awaiting_proof = true;
      send(*challenge, false);
    }

    void on_request(ByteSpan f) {
      auto signing = handshake.read_request(f);
      const std::string id8 = invite_id.substr(0, 8);
      if (!signing || !known) return close();
      awaiting_proof = false;
      enroll::JoinAnswer answer = server->enrol(*this, *signing);
      if (answer.status != enroll::JoinStatus::kOk) {
        ++server->counters.refused;
        spdlog::warn("enrollment: {} proved invite {} but was refused: {}", shown(from), id8, answer.message);
      }
      auto sealed = handshake.answer(answer);
      if (!sealed) return close();
      send(*sealed, true);
      secure_wipe(sealed->data(), sealed->size());
    }

    void close() {
      if (closed) return;
      closed = true;
      // A joiner without the secret cannot read the challenge (and stops) or
      // make a request that opens: either way it proved nothing and got
      // nothing but the challenge.
      if (awaiting_proof && !evicted) {
        ++server->counters.proof_failed;
        spdlog::warn("enrollment: {} did not prove the secret of invite {} (wrong secret{}); it got nothing but the "
                     "challenge, the invite is unchanged",
                     shown(from), invite_id.substr(0, 8), known ? "" : ", or no such invite");
      }
      error_code ec;
      timer.cancel();
      socket.close(ec);
      server->release(this);
    }

    std::shared_ptr<Impl> server;
    tcp::socket socket;
    asio::steady_timer timer;
    tcp::endpoint from;
    enroll::BootstrapHandshake handshake;
    std::array<uint8_t, 2> length{};
    Bytes frame, out;
    PublicKey joiner{};
    std::string invite_id;
    bool known = false, other_mesh = false, closed = false, awaiting_proof = false, evicted = false;
  };

  // The invite is proven: use it, take an address, sign.
  enroll::JoinAnswer enrol(const Session& s, const Ed25519PublicKey& signing) {
    enroll::JoinAnswer a;
    const uint64_t now = clock.zeqond();
    const std::string id8 = s.invite_id.substr(0, 8);
    auto refuse = [&](enroll::JoinStatus st, std::string message) {
      a.status = st;
      a.message = std::move(message);
      return std::move(a);
    };
    if (s.other_mesh)
      return refuse(enroll::JoinStatus::kOtherMesh, "this bootstrap node serves mesh \"" + settings.ca.name +
                                                        "\", not the token's; ask that mesh's operator for an invite");
    const std::string zid = zid_from_public_key(s.joiner);
    if (settings.addresses_in_use)
      for (const auto& t : settings.addresses_in_use())
        if (settings.config.network->contains(t.address.family, t.address.addr.data()))
          if (Status r = invites.reserve_address(t.address, t.zid, t.name, now); !r)
            spdlog::warn("enrollment: could not record {} as taken: {}", t.address.address(), r.message());
    auto used = invites.use(s.invite_id, zid, *settings.config.network, now);
    if (!used) {
      spdlog::error("enrollment: invite {}: {}", id8, used.message());
      return refuse(enroll::JoinStatus::kFailed, "the bootstrap node could not record the join (its state database "
                                                 "failed); ask its operator to look at its log");
    }
    switch (used->outcome) {
      case InviteUse::kOk: break;
      case InviteUse::kUnknown:
        return refuse(enroll::JoinStatus::kFailed, "invite " + id8 + " is not known to the bootstrap node");
      case InviteUse::kExpired:
        return refuse(enroll::JoinStatus::kExpired, "invite " + id8 + " (" + used->row.name + ") expired at Zeqond " +
                                                        std::to_string(used->row.expires_z) +
                                                        "; ask for a new one (`zeqvpnctl mesh invite`)");
      case InviteUse::kUsed:
        return refuse(enroll::JoinStatus::kUsed, "invite " + id8 + " (" + used->row.name +
                                                     ") was already used; an invite admits one node, ask for a new one");
      case InviteUse::kRevoked:
        return refuse(enroll::JoinStatus::kRevoked, "invite " + id8 + " (" + used->row.name +
                                                        ") was revoked; ask for a new one (`zeqvpnctl mesh invite`)");
      case InviteUse::kNoAddress:
        return refuse(enroll::JoinStatus::kFailed, "no free address is left in " + settings.config.network->to_string() +
                                                       "; the operator must widen enrollment.network");
    }
    CertificateBody b;
    b.name = used->row.name;
    b.zid = zid;
    b.x25519_public = s.joiner;
    b.signing_public = signing;
    auto address = parse_ip_prefix(used->row.address);
    if (!address) return refuse(enroll::JoinStatus::kFailed, "the bootstrap node recorded a bad address");
    b.addresses = {*address};
    IpPrefix host = *address;
    host.length = uint8_t(host.address_bytes() * 8);
    b.allowed_ips = {host};
    b.roles = used->row.roles;
    b.not_before_z = now >= 10 ? now - 10 : 0;
    b.not_after_z = now + settings.config.certificate_valid_z;
    auto cert = sign_certificate(b, settings.ca.key);
    if (!cert) {
      spdlog::error("enrollment: invite {}: signing failed: {}", id8, cert.message());
      return refuse(enroll::JoinStatus::kFailed, "the bootstrap node could not sign the certificate: " + cert.message());
    }
    a.certificate = cert->encoded;
    a.ca_public = encode_ca_public_key(settings.ca.public_key());
    a.mesh_secret.assign(settings.mesh_secret.span().begin(), settings.mesh_secret.span().end());
    a.bootstrap_certificate = settings.own_certificate.encoded;
    a.udp_port = settings.udp_port;
    ++counters.enrolled;
    spdlog::info("enrollment: {} joined with invite {} as {} ({}), address {}", shown(s.from), id8, b.name, zid,
                 address->to_string());
    return a;
  }

  void accept() { accept_connections(shared_from_this(), "enrollment"); }

  // An invite's secret, read from the vault once and then kept here: every
  // vault read is an audited, fsynced write, and a hello naming a known
  // invite (also a used one: its joiner learns "already used") costs the
  // sender nothing. False for an unknown invite or an unreadable secret.
  bool invite_secret(const std::string& id, Key32& psk) {
    if (auto it = secret_cache.find(id); it != secret_cache.end()) {
      psk = it->second;
      return true;
    }
    auto row = invites.find(id);
    if (!row || !row->has_value()) return false;
    auto secret = invites.secret(id, clock.zeqond());
    if (!secret || secret->size() != 32) {
      spdlog::error("enrollment: the secret of invite {} cannot be read: {}", id.substr(0, 8),
                    secret ? "wrong size" : secret.message());
      return false;
    }
    psk.assign(secret->span());
    if (secret_cache.size() >= MAX_CACHED_SECRETS) secret_cache.clear();
    secret_cache.emplace(id, psk);
    return true;
  }

  void admit(tcp::socket sock) {
    error_code ec;
    tcp::endpoint from = sock.remote_endpoint(ec);
    if (ec) return;
    // Every slot taken: the source holding the most slots gives up its
    // oldest, unless it is the newcomer's own; so one host holding all of
    // them (connections that send nothing, or hellos it never follows up)
    // does not lock other joiners out.
    if (int(open.size()) >= MAX_CONNECTIONS) {
      std::map<asio::ip::address, int> held;
      for (const auto& s : open) ++held[s->from.address()];
      auto most = std::max_element(held.begin(), held.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
      const int mine = held.count(from.address()) ? held[from.address()] : 0;
      if (most == held.end() || most->second <= mine + 1) {
        ++counters.refused_busy;
        spdlog::warn("enrollment: {} connections open; refused one from {}", open.size(), shown(from));
        sock.close(ec);
        return;
      }
      std::shared_ptr<Session> victim;
      for (const auto& s : open)
        if (s->from.address() == most->first) {
          victim = s;
          break;
        }
      ++counters.evicted;
      spdlog::warn("enrollment: {} connections open, {} of them from {}; closed its oldest to let {} in", open.size(),
                   most->second, most->first.to_string(), shown(from));
      victim->evicted = true;
      victim->close();
    }
    ++counters.connections;
    auto s = std::make_shared<Session>(shared_from_this(), std::move(sock), from);
    open.push_back(s);
    s->begin();
  }

  void release(Session* s) {
    open.remove_if([s](const std::shared_ptr<Session>& p) { return p.get() == s; });
  }

  void stop() {
    stopped = true;
    error_code ec;
    acceptor.close(ec);
    retry.cancel();
    auto all = open;
    for (auto& s : all) s->close();
  }

  // The endpoints a token names.
  std::vector<UdpEndpoint> token_endpoints() const {
    if (!settings.config.advertise.empty()) return settings.config.advertise;
    const UdpEndpoint& l = *settings.config.listen;
    if (!unspecified(l)) return {l};
    return local_endpoints(port, settings.interface_name, enroll::MAX_TOKEN_ENDPOINTS);
  }

  tcp::acceptor acceptor;
  asio::steady_timer retry;  // after a failed accept
  InviteStore invites;
  const Clock& clock;
  RandomSource& random;
  EnrollmentSettings settings;
  EnrollmentCounters counters;
  std::list<std::shared_ptr<Session>> open;  // oldest first
  std::map<std::string, Key32> secret_cache;
  uint16_t port = 0;
  bool stopped = false;
};

EnrollmentService::EnrollmentService(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
EnrollmentService::~EnrollmentService() { impl_->stop(); }
EnrollmentCounters EnrollmentService::counters() const { return impl_->counters; }

std::string EnrollmentService::metrics() const {
  const EnrollmentCounters& c = impl_->counters;
  std::string out =
      "# HELP zeqvpn_enrollment_connections_total Connections to the enrollment listener (mesh join) by outcome.\n"
      "# TYPE zeqvpn_enrollment_connections_total counter\n";
  const std::pair<const char*, uint64_t> rows[] = {
      {"accepted", c.connections}, {"refused_busy", c.refused_busy}, {"evicted", c.evicted},
      {"bad_hello", c.bad_hello},  {"proof_failed", c.proof_failed}, {"refused", c.refused},
      {"enrolled", c.enrolled},    {"timed_out", c.timed_out}};
  for (const auto& [outcome, n] : rows)
    out += "zeqvpn_enrollment_connections_total{outcome=\"" + std::string(outcome) + "\"} " + std::to_string(n) + "\n";
  return out;
}
uint16_t EnrollmentService::port() const { return impl_->port; }

Result<std::unique_ptr<EnrollmentService>> EnrollmentService::start(asio::io_context& io, Database& db, Vault& vault,
                                                                    const Clock& clock, RandomSource& random,
                                                                    EnrollmentSettings settings) {
  const auto& c = settings.config;
  if (!c.listen || !c.network) return Status::error("enrollment: listen and network are required");
  const CaPublicKey ca = settings.ca.public_key();
  if (!certificate_signed_by(settings.own_certificate, ca))
    return Status::error("enrollment.ca_key: the CA \"" + ca.name + "\" (" + to_hex(ca.fingerprint()) +
                         ") did not sign mesh.certificate; give the key of the CA that signed this node's certificate");
  auto impl = std::make_shared<Impl>(io, db, vault, clock, random, std::move(settings));
  // This node's own addresses are taken.
  for (const auto& a : impl->settings.own_certificate.body.addresses)
    if (Status s = impl->invites.reserve_address(a, impl->settings.own_certificate.body.zid,
                                                 impl->settings.own_certificate.body.name, clock.zeqond());
        !s)
      return s;
  const tcp::endpoint ep = tcp_endpoint(*impl->settings.config.listen);
  error_code ec;
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status::error("enrollment.listen " + impl->settings.config.listen->to_string() + ": " + ec.message() +
                         (ec == asio::error::address_in_use ? "; stop the other process or choose another port" : ""));
  impl->port = impl->acceptor.local_endpoint(ec).port();
  impl->accept();
  spdlog::info("enrollment: serving mesh \"{}\" joins on TCP {} (network {})", ca.name,
               shown(impl->acceptor.local_endpoint(ec)), impl->settings.config.network->to_string());
  return std::unique_ptr<EnrollmentService>(new EnrollmentService(std::move(impl)));
}

Result<nlohmann::json> EnrollmentService::invite(const std::string& name, const std::string& roles, uint64_t expires_s) {
  Impl& m = *impl_;
  if (!good_name(name))
    return Status::error("name '" + name + "': use 1 to 64 characters of A-Z a-z 0-9 . _ - (it becomes the node's certificate name)");
  uint8_t role_bits = 0;
  if (roles.empty() || roles == "node") role_bits = CERT_ROLE_NODE;
  else if (roles == "relay") role_bits = CERT_ROLE_RELAY;
  else if (roles == "node,relay" || roles == "relay,node") role_bits = CERT_ROLE_NODE | CERT_ROLE_RELAY;
  else return Status::error("roles '" + roles + "': expected node, relay or node,relay");
  if (expires_s == 0 || expires_s > 366ull * 86400)
    return Status::error("expires " + std::to_string(expires_s) + " s: expected 1 s to 366 days, like 1h or 7d");
  auto endpoints = m.token_endpoints();
  if (endpoints.empty())
    return Status::error("this node has no address to put in the token; set enrollment.advertise to the address:port "
                         "joiners reach it on");
  const uint64_t now = m.clock.zeqond();
  enroll::InviteToken t;
  t.mesh_id = m.settings.ca.public_key().fingerprint();
  t.mesh_name = m.settings.ca.name;
  m.random.fill(t.invite_id);
  m.random.fill(t.secret.mutable_span());
  t.bootstrap_key = m.settings.node_key.public_key;
  t.expires_z = now + (expires_s * 1'000'000 + 777'000 - 1) / 777'000;
  t.endpoints = endpoints;
  InviteRow row;
  row.id = hex_id(t.invite_id);
  row.name = name;
  row.roles = role_bits;
  row.created_z = now;
  row.expires_z = t.expires_z;
  if (Status s = m.invites.create(row, t.secret.span(), now); !s) return s;
  std::string token = enroll::encode_token(t);
  nlohmann::json j = invite_json(row);
  j["token"] = token;
  j["mesh"] = t.mesh_name;
  nlohmann::json eps = nlohmann::json::array();
  for (const auto& e : endpoints) eps.push_back(e.to_string());
  j["endpoints"] = eps;
  secure_wipe(token.data(), token.size());
  spdlog::info("enrollment: invite {} made for {} (roles {}), expires at Zeqond {}", row.id.substr(0, 8), name,
               j["roles"].get<std::string>(), row.expires_z);
  return j;
}

Result<nlohmann::json> EnrollmentService::invites() {
  auto rows = impl_->invites.list();
  if (!rows) return rows.status();
  nlohmann::json list = nlohmann::json::array();
  const uint64_t now = impl_->clock.zeqond();
  for (const auto& r : *rows) {
    nlohmann::json j = invite_json(r);
    if (r.state == "open" && now > r.expires_z) j["state"] = "expired";
    list.push_back(j);
  }
  return nlohmann::json{{"mesh", impl_->settings.ca.name}, {"zeqond", now}, {"invites", list}};
}

Result<nlohmann::json> EnrollmentService::revoke(const std::string& key) {
  auto r = impl_->invites.revoke(key, impl_->clock.zeqond());
  if (!r) return r.status();
  spdlog::info("enrollment: invite {} ({}) revoked", r->id.substr(0, 8), r->name);
  return invite_json(*r);
}

}  // namespace zeq
