#include "control/control_request.hpp"

#include "control/control_protocol.hpp"

namespace zeq::control {

using json = nlohmann::json;

namespace {

ParsedRequest refuse(const char* code, std::string message, json id = nullptr) {
  ParsedRequest p;
  p.code = code;
  p.message = std::move(message);
  p.request.id = std::move(id);
  return p;
}

}  // namespace

ParsedRequest parse_request(std::string_view line) {
  if (size_t nul = line.find('\0'); nul != std::string_view::npos)
    return refuse(BAD_REQUEST, "request has a NUL byte at offset " + std::to_string(nul) +
                                   "; send one JSON object per line and nothing else");
  json request;
  try {
    // Strict: bytes after the object (other than white space) are an error.
    request = json::parse(line.begin(), line.end(), nullptr, true, false);
  } catch (const json::parse_error& e) {
    return refuse(BAD_REQUEST, "request is not one JSON object (invalid or trailing bytes at offset " +
                                   std::to_string(e.byte > 0 ? e.byte - 1 : 0) +
                                   "); send one JSON object per line and nothing else");
  } catch (const json::exception&) {
    // out_of_range 406: a number no double holds (1e999) is thrown as that,
    // not as a parse_error (found by tests/fuzz control_request).
    return refuse(BAD_REQUEST, "request has a number out of range; send one JSON object per line and nothing else");
  }
  if (!request.is_object()) return refuse(BAD_REQUEST, "request is not a JSON object");
  json id = request.contains("id") ? request["id"] : json(nullptr);
  if (!request.contains("v") || request["v"] != PROTOCOL_VERSION)
    return refuse(UNSUPPORTED_VERSION, "this zeqvpnd speaks control protocol version " + std::to_string(PROTOCOL_VERSION),
                  id);
  if (!request.contains("cmd") || !request["cmd"].is_string())
    return refuse(BAD_REQUEST, "request has no \"cmd\" string", id);
  json args = request.contains("args") ? request["args"] : json::object();
  if (!args.is_object()) return refuse(BAD_REQUEST, "\"args\" must be an object", id);
  ParsedRequest p;
  p.ok = true;
  p.request = {std::move(id), request["cmd"].get<std::string>(), std::move(args)};
  return p;
}

}  // namespace zeq::control
