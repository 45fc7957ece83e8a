// One connection to etcd's v3 JSON gateway (HTTP/1.1, POST /v3/...), for
// the etcd directory backend (directory/etcd_directory.hpp): a list of
// endpoints of which one is in use (the caller moves on with failover()),
// plain HTTP or TLS (a CA file, an optional client certificate and key; the
// server's certificate must name the endpoint's host or IP), etcd's auth
// token in the Authorization header, a deadline on every call, and bounded
// responses. Unary calls are queued and run one at a time on a keep-alive
// connection; a stream (the watch) hands its answer line by line as it
// arrives and owns the connection until it ends.
//
// A dead connection is told from a slow etcd: one whose local address this
// host no longer has (the host's address changed) fails its call or stream
// at once, checked before a kept connection is used again and every 250 ms
// while a call or stream is on it; one whose sent data goes unacknowledged
// (set_dead_path_timeout: a route or the peer host gone) is ended by the
// kernel. Neither waits for the call's deadline.
//
// Callback-driven on the caller's io_context (Boost.Asio stays in the .cpp:
// many files include directory headers). Every callback runs on that
// io_context's thread, posted, never from inside a call of this class.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace boost::asio {
class io_context;
}

namespace zeq {

// "http://HOST:PORT" or "https://HOST:PORT" (HOST a name, an IPv4 address or
// a bracketed IPv6 address; the port defaults to 2379; a trailing "/" is
// allowed, any other path is not).
struct EtcdEndpoint {
  std::string url;  // as given
  bool tls = false;
  std::string host;  // without brackets
  uint16_t port = 2379;
};
// Errors name the value and what a good one looks like.
Result<EtcdEndpoint> parse_etcd_endpoint(std::string_view url);

// The TLS client context shared by an EtcdDirectory's connections: the CA
// file (empty: the system's CAs), and a client certificate chain and key
// (both or neither). Loaded once, at start, so a bad file is an error there.
class EtcdTlsContext;
Result<std::shared_ptr<EtcdTlsContext>> make_etcd_tls_context(const std::string& ca_file,
                                                              const std::string& cert_file,
                                                              const std::string& key_file);

// An HTTP answer: any status, with the body (at most the call's max_body).
struct EtcdReply {
  unsigned status = 0;
  std::string body;
};

class EtcdClient {
 public:
  using Done = std::function<void(Result<EtcdReply>)>;
  // One line of a stream (without its newline); false ends the stream.
  using OnLine = std::function<bool(std::string_view line)>;
  // How a stream ended: ok when the server closed it or on_line said stop.
  using StreamDone = std::function<void(Status)>;

  // tls may be null when no endpoint is https.
  EtcdClient(boost::asio::io_context& io, std::vector<EtcdEndpoint> endpoints,
             std::shared_ptr<EtcdTlsContext> tls, std::chrono::milliseconds timeout);
  // Closes the connection; no callback runs after this.
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // The endpoint in use; moving to another closes the connection.
  const EtcdEndpoint& endpoint() const;
  size_t endpoint_index() const;
  void use_endpoint(size_t index);
  void failover();  // closes the connection, then the next endpoint of the list
  size_t endpoint_count() const;

  // The etcd auth token sent with every request from now on (empty: none).
  void set_token(std::string token);
  // The deadline of calls started from now on.
  void set_timeout(std::chrono::milliseconds timeout);
  // Connections made from now on end when what they sent stays
  // unacknowledged this long (TCP_USER_TIMEOUT; 0, the default: the
  // kernel's, many minutes): the call or stream on it fails then with an
  // error saying the connection is dead.
  void set_dead_path_timeout(std::chrono::milliseconds timeout);

  // POST path with body. Connects first when needed; the whole call
  // (connect, TLS, write, read) has the timeout. done gets the reply of any
  // HTTP status, or an error naming the endpoint when the call could not be
  // made (refused, timed out, reply over max_body, closed). With
  // wipe_body the request body is wiped from memory once sent (a password).
  void call(std::string path, std::string body, size_t max_body, Done done, bool wipe_body = false);

  // POST path with body and read the (chunked, long-lived) answer line by
  // line as it arrives; a line longer than max_line ends it with an error.
  // Connecting, sending and the answer's header have the timeout; the lines
  // may take as long as they take. A non-200 answer ends it with an error
  // that carries etcd's message.
  void stream(std::string path, std::string body, size_t max_line, OnLine on_line, StreamDone done);

  // Drops the connection: what is in flight or queued ends with an error.
  void close();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace zeq
