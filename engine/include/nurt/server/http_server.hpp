#pragma once
// nurt::server::HttpServer — the HTTP/1.1 server under `nurt serve` (Boost.Beast, keep-alive).
//
// One io_context runs on a pool of `threads` threads; every connection has its own strand and handlers
// run on the pool thread that read the request. Handlers BLOCK (they commit with fsync), so at most
// `threads` requests are handled at once; other connections wait for a free thread, never for a
// particular slow handler.
//
// Per connection:
//   - idle keep-alive: no byte of a next request within idle_timeout → the connection is closed;
//   - a request must arrive whole within request_timeout of its first byte → 408 `request_timeout`,
//     then close (the same budget bounds writing the response);
//   - body over max_body_bytes → 413 `payload_too_large` (a Content-Length over the limit is refused
//     before any body byte is read; chunked bodies when they cross it), then close;
//   - header block over max_header_bytes → 431 `request_header_fields_too_large`, then close;
//   - malformed HTTP → 400 `bad_request`, then close.
// Built in: GET /healthz → 200 {"status":"ok"}; GET /readyz → 200 {"status":"ready"} after SetReady(true)
// and before Shutdown(), else 503 {"status":"not_ready","reason":"starting"|"shutting_down"};
// GET /metrics → the registry's Prometheus text (`text/plain; version=0.0.4`). Everything else goes to the
// handler; an exception from it becomes 500 `internal` (logged with the trace id).
//
// Tracing: a valid W3C `traceparent` request header keeps its trace id (and flags); otherwise a new trace
// id is drawn from env::Random. Every request gets a new span id. Responses carry
// `traceparent: 00-<trace id>-<span id>-<flags>` and `X-Request-Id: <span id>` (the span id is unique per
// request and is what the access log and traces know the request by).
//
// Observability: one access-log line per request (msg "request": method, route or path, status,
// duration_ms, trace_id, span_id, remote, bytes_in, bytes_out, plus HttpResponse::log_fields), and the
// metrics nurt_http_requests_total{method,route,status}, nurt_http_request_duration_seconds{method,route}
// (route = matched template, the built-in path, or "unmatched"), nurt_http_connections_open and
// nurt_http_requests_in_flight. Durations are measured with the injected Clock.
//
// Shutdown(): stops accepting (new connections are refused), closes idle keep-alive connections, lets
// every request already being read or handled finish (those responses carry `Connection: close`), waits
// at most shutdown_grace for that, then stops the threads. A handler still running after the grace period
// cannot be interrupted: Shutdown() returns once it has returned (its connection is dropped).
//
// Thread-safety: port()/SetReady()/Shutdown()/Wait() may be called from any thread, including a
// signal-handling thread; Shutdown() is idempotent. REQUIRES: Shutdown() and the destructor are not
// called from inside a handler (they join the pool the handler runs on).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "nurt/core/result.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/env/random.hpp"
#include "nurt/server/http_message.hpp"
#include "nurt/server/logger.hpp"
#include "nurt/server/metrics.hpp"

namespace nurt::server {

struct HttpServerOptions {
  std::string address = "127.0.0.1";  // IPv4 or IPv6 literal to listen on
  std::uint16_t port = 0;              // 0 = an ephemeral port (see HttpServer::port())
  int threads = 4;                     // pool size = how many handlers may block at once
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds shutdown_grace{20000};
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 * 1024;
};

class HttpServer {
 public:
  // Listens and starts the pool. `logger` may be null (no access log); `metrics` may be null (the server
  // keeps a private registry, still served on /metrics); `clock`/`random` may be null (system ones).
  // Non-null collaborators must outlive the server.
  // Errors: InvalidArgument (bad address, threads < 1, zero limits/timeouts), Unavailable (cannot bind or
  // listen, e.g. the port is in use).
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options, HttpHandler handler,
                                                   Logger* logger, MetricsRegistry* metrics,
                                                   const env::Clock* clock, env::Random* random);
  ~HttpServer();  // Shutdown()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::uint16_t port() const;  // the bound port (the real one when options.port was 0)
  void SetReady(bool ready);
  void Shutdown();
  void Wait();  // blocks until Shutdown() has completed (on any thread)

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nurt::server
