#pragma once
// The `http` adapter: any JSON REST call over libcurl (docs/effects.md "http adapter").
//
// Input (dsl::BuiltinAdapters()["http"]): {url, method (default POST with a body, GET without),
// headers, body (JSON; a string is sent as is), timeoutMs}. Sends `Idempotency-Key: <effect key>` and
// Content-Type application/json when there is a body. Redirects are not followed. Output:
// {"status", "headers": {lower-case name: value}, "body": parsed JSON or text}.
// 2xx: ok. 408, 429, 5xx, timeouts and connection failures: retryable. Other 4xx, 3xx, a malformed URL:
// not retryable.

#include <chrono>
#include <memory>
#include <string>

#include "nurt/effects/adapter.hpp"

namespace nurt::effects {

struct HttpAdapterOptions {
  std::chrono::milliseconds default_timeout{30000};  // per call, unless the input says timeoutMs
  std::string ca_file;                               // "" = the system's CA bundle
  bool verify_tls = true;
  int concurrency = 8;                               // calls at once
  std::size_t max_response_bytes = 1 << 20;          // longer answers are cut (and not parsed as JSON)
};

std::shared_ptr<Adapter> NewHttpAdapter(const HttpAdapterOptions& options = {});

}  // namespace nurt::effects
