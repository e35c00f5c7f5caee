#pragma once
// nurt::server::HttpRequest / HttpResponse — the HTTP messages API handlers see, free of Beast types.
//
// HttpServer fills an HttpRequest from the wire (path and query already percent-decoded, trace ids set),
// the Router adds `route` and `path_params`, a handler returns an HttpResponse. Header names compare
// case-insensitively (RFC 9110). Errors returned to clients share one JSON shape:
//   {"error": {"code": "not_found", "message": "...", "details": {...}}}   ("details" only when given)
//
// Thread-safety: plain values; one request/response is used by one thread at a time.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nurt/core/json.hpp"

namespace nurt::server {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// ASCII case-insensitive equality, for header names.
bool HeaderNameEquals(std::string_view a, std::string_view b);

struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent
  std::string target;  // the raw request target, e.g. "/v1/instances/a%2Fb?limit=10"
  std::string path;    // percent-decoded, without the query, e.g. "/v1/instances/a/b"
  std::vector<std::pair<std::string, std::string>> query;  // decoded ('+' = space), in request order
  HeaderList headers;  // as received, in order (iterate this; look up with Header())
  std::string body;
  std::string remote_address;  // peer IP address
  std::map<std::string, std::string> path_params;  // set by Router::Dispatch, decoded
  std::string route;     // matched template, e.g. "/v1/instances/{id}"; "" when none matched
  std::string trace_id;  // W3C trace id (32 lowercase hex): the caller's, or a new one
  std::string span_id;   // W3C span id of this request (16 lowercase hex), always new
  std::uint8_t trace_flags = 0x01;  // W3C trace flags: the caller's, or 01 (sampled) for a new trace

  // First header with this name (case-insensitive); "" when absent.
  std::string Header(std::string_view name) const;
  // First query parameter with this name (case-sensitive); "" when absent.
  std::string QueryParam(std::string_view name) const;
  // Every value of a repeated query parameter, in order.
  std::vector<std::string> QueryParams(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  HeaderList headers;  // extra headers; Content-Type/Content-Length are set by the server
  // Extra fields for this request's access-log line (e.g. "org", "key_id"); never sent to the client.
  std::map<std::string, std::string> log_fields;

  // Replaces every header named `name` (case-insensitive) with one `name: value`.
  void SetHeader(std::string_view name, std::string value);
  // First header with this name (case-insensitive); "" when absent.
  std::string Header(std::string_view name) const;

  // `body` serialised compactly, content type application/json.
  static HttpResponse Json(int status, const nurt::Json& body);
  // {"error":{"code":code,"message":message[,"details":details]}}; details omitted when null.
  static HttpResponse Error(int status, std::string_view code, std::string_view message,
                            nurt::Json details = nullptr);
};

// Handlers block (they may commit to SQLite with fsync); they must not throw, but if one does the server
// answers 500 `internal` and logs the exception with the trace id.
using HttpHandler = std::function<HttpResponse(HttpRequest&)>;

}  // namespace nurt::server
