// Fuzz target: the bytes a client sends the metrics endpoint
// (daemon/metrics_http_server.hpp), read as the server reads them (Beast's
// request parser with the server's limits) and answered as it answers,
// without a socket. The first byte says how the network splits the rest
// (0: all at once, N: N bytes at a time); the answers must not depend on it
// (but for which refusal a request both too long and malformed gets).
// Every answer is one the server knows, and only GET /metrics renders.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/metrics_http_server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  int renders = 0;
  auto render = [&renders] {
    ++renders;
    return std::string("# HELP zeqvpn_up 1 while zeqvpnd runs.\n# TYPE zeqvpn_up gauge\nzeqvpn_up 1\n");
  };
  // A small header limit too, so inputs reach it without being kilobytes long.
  for (size_t limit : {zeq::MetricsHttpServer::MAX_HEADER_BYTES, size_t(64)}) {
    renders = 0;
    zeq::MetricsHttpExchange split = zeq::metrics_http_exchange(bytes, render, limit, chunk);
    int ok = 0;
    for (int status : split.statuses) {
      if (status != 200 && status != 400 && status != 404 && status != 405 && status != 413 && status != 431)
        __builtin_trap();
      ok += status == 200;
    }
    if (ok != renders) __builtin_trap();  // rendered for GET /metrics only, once each
    if (split.statuses.empty() != split.written.empty()) __builtin_trap();
    if (!split.written.empty() && split.written.rfind("HTTP/1.", 0) != 0) __builtin_trap();
    if (ok > 0 && bytes.find("/metrics") == std::string_view::npos) __builtin_trap();
    // Split or whole, the same answers; but a request that is both too long
    // and malformed may be refused for either, whichever the parser meets
    // first in what it has, so the last refusal (400, 413, 431) may differ.
    zeq::MetricsHttpExchange whole = zeq::metrics_http_exchange(bytes, render, limit, 0);
    auto refusal = [](int status) { return status == 400 || status == 413 || status == 431; };
    if (whole.statuses.size() != split.statuses.size() || whole.closed_by_server != split.closed_by_server)
      __builtin_trap();
    for (size_t i = 0; i < whole.statuses.size(); ++i) {
      const bool last = i + 1 == whole.statuses.size();
      if (whole.statuses[i] != split.statuses[i] && !(last && refusal(whole.statuses[i]) && refusal(split.statuses[i])))
        __builtin_trap();
    }
  }
  return 0;
}
