#include "control/control_server.hpp"

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <istream>
#include <list>
#include <optional>

#include "control/control_protocol.hpp"
#include "control/control_request.hpp"
#include "control/peer_credentials.hpp"

namespace zeq::control {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using json = nlohmann::json;

Reply Reply::success(json result) {
  Reply r;
  r.result = std::make_shared<json>(std::move(result));
  return r;
}

Reply Reply::failure(std::string code, std::string message) {
  Reply r;
  r.ok = false;
  r.code = std::move(code);
  r.message = std::move(message);
  return r;
}

namespace {

std::string reply_line(const json& id, const Reply& r) {
  json out = {{"v", PROTOCOL_VERSION}, {"id", id}, {"ok", r.ok}};
  if (r.ok) out["result"] = r.result ? *r.result : json::object();
  else out["error"] = {{"code", r.code}, {"message", r.message}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string seconds_of(std::chrono::milliseconds t) {
  return std::to_string((t.count() + 999) / 1000) + " s";
}

// Another process accepting on the path means a daemon is running there.
bool someone_listens(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  close(fd);
  return ok;
}

}  // namespace

struct ControlServer::Impl : std::enable_shared_from_this<ControlServer::Impl> {
  Impl(asio::io_context& io, std::string p, std::optional<gid_t> g, std::string gname, Handler h, Limits l)
      : acceptor(io), path(std::move(p)), group(g), group_name(std::move(gname)), handler(std::move(h)), limits(l) {}

  struct Session;
  using Slots = std::list<Session*>;

  struct Session : std::enable_shared_from_this<Session> {
    Session(std::shared_ptr<Impl> s, local::socket sock)
        : server(std::move(s)), socket(std::move(sock)), deadline(socket.get_executor()), in(MAX_LINE + 1) {}
    ~Session() { server->release(*this); }
    std::shared_ptr<Impl> server;
    local::socket socket;
    asio::steady_timer deadline;
    asio::streambuf in;
    std::string out;
    PeerCredentials who;
    bool privileged = false;      // root: may take an idle connection's slot
    bool waiting = false;         // for a request; the first to go when root needs a slot
    std::optional<Slots::iterator> slot;  // while it holds one

    void read() {
      waiting = true;
      arm_deadline();
      asio::async_read_until(socket, in, '\n', [self = shared_from_this()](boost::system::error_code ec, size_t) {
        self->waiting = false;
        if (ec == asio::error::not_found) ++self->server->counters.bad_requests;  // longer than MAX_LINE
        if (ec) return self->close();  // closed by either side, or too long
        std::istream stream(&self->in);
        std::string line;
        std::getline(stream, line);
        self->write(self->server->answer(line), true);
      });
    }
    void write(std::string line, bool then_read) {
      out = std::move(line);
      arm_deadline();
      asio::async_write(socket, asio::buffer(out), [self = shared_from_this(), then_read](boost::system::error_code ec, size_t) {
        if (!ec && then_read) return self->read();
        self->close();
      });
    }
    // One deadline for each request (from the connection or the previous
    // reply to a complete line) and each reply (until written): time spent
    // trickling bytes in or not reading does not extend it.
    void arm_deadline() {
      deadline.expires_after(server->limits.request_timeout);
      deadline.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (ec || !self || !self->socket.is_open()) return;
        // Re-armed after this wait had already completed (a request came in
        // just in time): the new deadline holds.
        if (self->deadline.expiry() > asio::steady_timer::clock_type::now()) return;
        ++self->server->counters.timed_out;
        spdlog::debug("control: closed a connection from uid {} (pid {}): no complete request or reply read within {} ms",
                      self->who.uid, self->who.pid, self->server->limits.request_timeout.count());
        self->close();
      });
    }
    // Frees the slot at once (not when the last handler lets go), so a
    // root client that evicted this one finds it free.
    void close() {
      server->release(*this);
      boost::system::error_code ec;
      socket.close(ec);
      deadline.cancel();
    }
  };

  void accept() {
    acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec, local::socket sock) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) self->admit(std::move(sock));
      self->accept();
    });
  }

  void admit(local::socket sock) {
    auto session = std::make_shared<Session>(shared_from_this(), std::move(sock));
    auto who = peer_credentials(session->socket.native_handle());
    if (!who || !may_control(*who, group, geteuid())) {
      ++counters.refused_permission;
      spdlog::warn("control: refused a connection from uid {} (pid {}): not root and not in group {}",
                   who ? std::to_string(who->uid) : "?", who ? std::to_string(who->pid) : "?", group_name);
      session->write(reply_line(nullptr, Reply::failure(PERMISSION_DENIED,
                                                        "permission denied: zeqvpnd's control socket is for root and "
                                                        "members of group " + group_name)),
                     false);
      return;
    }
    session->who = *who;
    session->privileged = who->uid == 0;
    if (int(slots.size()) >= limits.max_connections && !(session->privileged && evict_for_root())) {
      ++counters.refused_busy;
      spdlog::warn("control: {} connections open; refused another from uid {} (pid {})", slots.size(), who->uid,
                   who->pid);
      session->write(reply_line(nullptr, Reply::failure(FAILED, "zeqvpnd is busy: too many control connections "
                                                                "open; try again in a few seconds (idle ones are "
                                                                "closed after " + seconds_of(limits.request_timeout) + ")")),
                     false);
      return;
    }
    session->slot = slots.insert(slots.end(), session.get());
    ++counters.accepted;
    session->read();
  }

  // Every slot is taken and root wants one: the oldest connection waiting
  // for a request gives its slot up, a non-root one first; failing that the
  // oldest non-root connection of any kind. False when all are root's and
  // busy.
  bool evict_for_root() {
    auto pick = [&](auto fits) -> Session* {
      for (Session* s : slots)
        if (fits(*s)) return s;
      return nullptr;
    };
    Session* victim = pick([](const Session& s) { return s.waiting && !s.privileged; });
    if (!victim) victim = pick([](const Session& s) { return !s.privileged; });
    if (!victim) victim = pick([](const Session& s) { return s.waiting; });
    if (!victim) return false;
    ++counters.evicted;
    spdlog::info("control: all {} connections taken; closed the oldest idle one (uid {}, pid {}) to let root in",
                 slots.size(), victim->who.uid, victim->who.pid);
    victim->close();
    return true;
  }

  void release(Session& s) {
    if (!s.slot) return;
    slots.erase(*s.slot);
    s.slot.reset();
  }

  std::string answer(const std::string& line) {
    ParsedRequest parsed = parse_request(line);
    if (!parsed.ok) {
      ++counters.bad_requests;
      return reply_line(parsed.request.id, Reply::failure(parsed.code, parsed.message));
    }
    try {
      return reply_line(parsed.request.id, handler(parsed.request.cmd, parsed.request.args));
    } catch (const json::exception& e) {
      return reply_line(parsed.request.id, Reply::failure(BAD_REQUEST, std::string("bad arguments: ") + e.what()));
    }
  }

  Slots slots;  // oldest first
  ControlCounters counters;
  local::acceptor acceptor;
  std::string path;
  std::optional<gid_t> group;
  std::string group_name;
  Handler handler;
  Limits limits;
};

ControlServer::ControlServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ControlCounters ControlServer::counters() const { return impl_->counters; }
int ControlServer::open_connections() const { return int(impl_->slots.size()); }

ControlServer::~ControlServer() {
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  ::unlink(impl_->path.c_str());
}

ControlServer::Group ControlServer::lookup_group(const std::string& name) { return {name, group_id(name)}; }

Result<std::unique_ptr<ControlServer>> ControlServer::listen(asio::io_context& io, const std::string& path,
                                                             const std::string& group_name, Handler handler) {
  return listen(io, path, lookup_group(group_name), std::move(handler), Limits{});
}

Result<std::unique_ptr<ControlServer>> ControlServer::listen(asio::io_context& io, const std::string& path,
                                                             const std::string& group_name, Handler handler,
                                                             Limits limits) {
  return listen(io, path, lookup_group(group_name), std::move(handler), limits);
}

Result<std::unique_ptr<ControlServer>> ControlServer::listen(asio::io_context& io, const std::string& path,
                                                             const Group& group, Handler handler, Limits limits) {
  const std::string& group_name = group.name;
  namespace fs = std::filesystem;
  if (path.size() >= sizeof(sockaddr_un{}.sun_path))
    return Status::error("control.socket " + path + ": path too long for a Unix socket (max 107 bytes)");
  std::error_code fec;
  fs::path dir = fs::path(path).parent_path();
  if (!dir.empty() && !fs::exists(dir, fec)) {
    fs::create_directories(dir, fec);
    if (fec) return Status::error("control.socket " + path + ": cannot create " + dir.string() + ": " + fec.message());
    ::chmod(dir.c_str(), 0755);
  }
  if (fs::exists(fs::symlink_status(path, fec))) {
    if (someone_listens(path))
      return Status::error("control.socket " + path + ": another zeqvpnd is serving it; stop that one or set "
                           "control.socket to another path");
    ::unlink(path.c_str());  // left by a daemon that died
  }

  const std::optional<gid_t> gid = group.id;
  if (!gid)
    spdlog::warn("control: group '{}' does not exist, so only root can use {}; create it (systemd-sysusers, or "
                 "groupadd --system {}) or set control.group", group_name, path, group_name);

  auto impl = std::make_shared<Impl>(io, path, gid, group_name, std::move(handler), limits);
  boost::system::error_code ec;
  impl->acceptor.open(local(), ec);
  if (!ec) {
    mode_t old = ::umask(0177);  // never world- or group-writable, even for a moment
    impl->acceptor.bind(local::endpoint(path), ec);
    ::umask(old);
  }
  if (!ec) impl->acceptor.listen(16, ec);
  if (ec) return Status::error("control.socket " + path + ": " + ec.message());
  if (gid) {
    if (::chown(path.c_str(), uid_t(-1), *gid) != 0 || ::chmod(path.c_str(), 0660) != 0) {
      std::string err = std::strerror(errno);
      ::unlink(path.c_str());
      return Status::error("control.socket " + path + ": giving it to group " + group_name + ": " + err);
    }
  }
  impl->accept();
  spdlog::info("control socket {} (root{})", path, gid ? " and group " + group_name : " only");
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(impl)));
}

}  // namespace zeq::control
