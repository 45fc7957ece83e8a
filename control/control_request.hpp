// One control request line (docs/control.md) checked and split into its
// parts before any command sees it. The line comes from whoever connected,
// so it is outside input: exactly one JSON object, nothing before or after it
// but white space, and no NUL byte anywhere (nlohmann's parser stops at a NUL
// and would otherwise ignore whatever follows it). Pure, callable on any
// bytes: the fuzz target for the control socket calls parse_request.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace zeq::control {

struct Request {
  nlohmann::json id;    // echoed in the reply; null when absent
  std::string cmd;
  nlohmann::json args;  // always an object ({} when absent)
};

// ok: `request` holds the request. Otherwise `code` (BAD_REQUEST or
// UNSUPPORTED_VERSION) and `message` are the error reply, and request.id is
// the request's id when the line was a JSON object that carried one.
struct ParsedRequest {
  bool ok = false;
  Request request;
  std::string code, message;
};

// line: one request without its newline.
ParsedRequest parse_request(std::string_view line);

}  // namespace zeq::control
