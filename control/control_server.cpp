#include "control/control_server.hpp"

#include <utility>  // before Boost.Asio (Boost 1.74 + GCC 12 need std::exchange)

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
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

#include "control/control_protocol.hpp"
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
  Impl(asio::io_context& io, std::string p, std::optional<gid_t> g, std::string gname, Handler h)
      : acceptor(io), path(std::move(p)), group(g), group_name(std::move(gname)), handler(std::move(h)) {}

  struct Session : std::enable_shared_from_this<Session> {
    Session(std::shared_ptr<Impl> s, local::socket sock) : server(std::move(s)), socket(std::move(sock)),
                                                            in(MAX_LINE + 1) {
      ++server->sessions;
    }
    ~Session() { --server->sessions; }
    std::shared_ptr<Impl> server;
    local::socket socket;
    asio::streambuf in;
    std::string out;

    void read() {
      asio::async_read_until(socket, in, '\n', [self = shared_from_this()](boost::system::error_code ec, size_t) {
        if (ec) return;  // closed, or a line longer than MAX_LINE
        std::istream stream(&self->in);
        std::string line;
        std::getline(stream, line);
        self->write(self->server->answer(line), true);
      });
    }
    void write(std::string line, bool then_read) {
      out = std::move(line);
      asio::async_write(socket, asio::buffer(out), [self = shared_from_this(), then_read](boost::system::error_code ec, size_t) {
        if (!ec && then_read) self->read();
      });
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
    if (sessions > ControlServer::MAX_CONNECTIONS) {
      spdlog::warn("control: {} connections open; refusing another", ControlServer::MAX_CONNECTIONS);
      session->write(reply_line(nullptr, Reply::failure(FAILED, "zeqvpnd is busy: too many control connections open")), false);
      return;
    }
    if (!who || !may_control(*who, group, geteuid())) {
      spdlog::warn("control: refused a connection from uid {} (pid {}): not root and not in group {}",
                   who ? std::to_string(who->uid) : "?", who ? std::to_string(who->pid) : "?", group_name);
      session->write(reply_line(nullptr, Reply::failure(PERMISSION_DENIED,
                                                        "permission denied: zeqvpnd's control socket is for root and "
                                                        "members of group " + group_name)),
                     false);
      return;
    }
    session->read();
  }

  std::string answer(const std::string& line) {
    json request = json::parse(line, nullptr, false);
    if (request.is_discarded() || !request.is_object())
      return reply_line(nullptr, Reply::failure(BAD_REQUEST, "request is not a JSON object"));
    json id = request.contains("id") ? request["id"] : json(nullptr);
    if (!request.contains("v") || request["v"] != PROTOCOL_VERSION)
      return reply_line(id, Reply::failure(UNSUPPORTED_VERSION, "this zeqvpnd speaks control protocol version " +
                                                                    std::to_string(PROTOCOL_VERSION)));
    if (!request.contains("cmd") || !request["cmd"].is_string())
      return reply_line(id, Reply::failure(BAD_REQUEST, "request has no \"cmd\" string"));
    json args = request.contains("args") ? request["args"] : json::object();
    if (!args.is_object()) return reply_line(id, Reply::failure(BAD_REQUEST, "\"args\" must be an object"));
    try {
      return reply_line(id, handler(request["cmd"].get<std::string>(), args));
    } catch (const json::exception& e) {
      return reply_line(id, Reply::failure(BAD_REQUEST, std::string("bad arguments: ") + e.what()));
    }
  }

  int sessions = 0;
  local::acceptor acceptor;
  std::string path;
  std::optional<gid_t> group;
  std::string group_name;
  Handler handler;
};

ControlServer::ControlServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ControlServer::~ControlServer() {
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  ::unlink(impl_->path.c_str());
}

Result<std::unique_ptr<ControlServer>> ControlServer::listen(asio::io_context& io, const std::string& path,
                                                             const std::string& group_name, Handler handler) {
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

  std::optional<gid_t> gid = group_id(group_name);
  if (!gid)
    spdlog::warn("control: group '{}' does not exist, so only root can use {}; create it (systemd-sysusers, or "
                 "groupadd --system {}) or set control.group", group_name, path, group_name);

  auto impl = std::make_shared<Impl>(io, path, gid, group_name, std::move(handler));
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
