// The Beast server behind nurt::server::HttpServer (shape of Beast's advanced_server: one strand per
// connection, do_x/on_x pairs, per-session limits and deadlines, graceful stop with a grace period).

#include "nurt/server/http_server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "nurt/core/assert.hpp"
#include "nurt/server/trace_context.hpp"
#include "server/url.hpp"

namespace nurt::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using BeastRequest = http::request<http::string_body>;
using BeastResponse = http::response<http::string_body>;

namespace {

class Session;

// Bounded label values for the method (clients may send any token).
std::string MethodLabel(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    if (method == known) return std::string(known);
  }
  return "other";
}

bool IsBuiltinPath(std::string_view path) {
  return path == "/healthz" || path == "/readyz" || path == "/metrics";
}

// How long a closing connection keeps draining what the client still sends, so that closing with unread
// bytes does not reset the connection before the client has read our error response.
constexpr std::chrono::milliseconds kLingerLimit{2000};

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  Logger* logger = nullptr;
  std::unique_ptr<MetricsRegistry> own_metrics;
  MetricsRegistry* metrics = nullptr;
  const env::Clock* clock = nullptr;
  env::Random* random = nullptr;
  CounterFamily* requests_total = nullptr;
  HistogramFamily* request_duration = nullptr;
  Gauge* connections_open = nullptr;
  Gauge* requests_in_flight = nullptr;

  std::atomic<bool> ready{false};
  std::atomic<bool> shutting_down{false};
  std::uint16_t port = 0;

  std::mutex mu;
  std::condition_variable cv;
  std::map<Session*, std::weak_ptr<Session>> sessions;  // GUARDED_BY(mu)
  bool shutdown_started = false;                        // GUARDED_BY(mu)
  bool shutdown_done = false;                           // GUARDED_BY(mu)
  std::vector<std::thread> threads;

  // Declared last: destroyed first, while the state above that sessions touch in their destructors lives.
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{asio::make_strand(ioc)};

  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void Shutdown();

  // Request processing (runs on a pool thread, inside the connection's strand).
  HttpRequest NewRequest(const http::request_header<>* header, std::string remote);
  BeastResponse Process(BeastRequest& request, std::string remote);
  HttpResponse Route(HttpRequest& req);
  void LogHandlerFailure(const HttpRequest& req, std::string_view what);
  BeastResponse Complete(HttpRequest& req, HttpResponse response, TimePoint start);
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpServer::Impl& server, tcp::socket socket)
      : server_(server), socket_(std::move(socket)), deadline_(socket_.get_executor()) {
    beast::error_code ec;
    tcp::endpoint peer = socket_.remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
    server_.connections_open->Inc();
  }

  ~Session() {
    server_.connections_open->Dec();
    std::lock_guard<std::mutex> lock(server_.mu);
    server_.sessions.erase(this);
    server_.cv.notify_all();
  }

  void Start() {
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      if (self->server_.shutting_down) return self->Close();
      self->WaitForRequest();
    });
  }

  // Posted to the strand by Shutdown(): an idle keep-alive connection is closed now; one reading,
  // handling or writing a request finishes it first (the response then closes the connection).
  void OnShutdown() {
    if (phase_ == Phase::kIdle) Close();
  }

  asio::any_io_executor executor() { return socket_.get_executor(); }

 private:
  enum class Phase { kIdle, kReading, kHandling, kWriting, kLingering, kClosed };

  void WaitForRequest() {
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(server_.options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    if (buffer_.size() > 0) return ReadRequest();  // a pipelined request is already here
    phase_ = Phase::kIdle;
    Arm(server_.options.idle_timeout);
    socket_.async_wait(tcp::socket::wait_read,
                       [self = shared_from_this()](beast::error_code ec) { self->OnReadable(ec); });
  }

  void OnReadable(beast::error_code ec) {
    Disarm();
    // Cancelled: the idle timeout or Shutdown(). Bytes that arrived are a request already sent: serve it.
    if (ec) return Close();
    ReadRequest();
  }

  // One deadline covers the header, the optional 100 Continue and the body.
  void ReadRequest() {
    phase_ = Phase::kReading;
    Arm(server_.options.request_timeout);
    http::async_read_header(socket_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              self->OnHeader(ec);
                            });
  }

  void OnHeader(beast::error_code ec) {
    if (ec || timed_out_ || parser_->is_done()) return OnRead(ec);
    // Clients such as curl wait (about 1 s) for this before sending a large body. A Content-Length over
    // the limit has already failed above, so the client is never invited to send a body we refuse.
    if (HeaderNameEquals(parser_->get()[http::field::expect], "100-continue")) {
      asio::async_write(socket_, asio::buffer(std::string_view("HTTP/1.1 100 Continue\r\n\r\n")),
                        [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                          if (write_ec) return self->OnRead(write_ec);
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    bool timed_out = timed_out_;
    Disarm();
    if (timed_out) {
      if (!parser_->got_some()) return Close();
      return Reject(408, "request_timeout",
                    "the request did not arrive whole within " +
                        std::to_string(server_.options.request_timeout.count()) + " ms");
    }
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return Close();
    if (ec == http::error::body_limit) {
      return Reject(413, "payload_too_large",
                    "the request body is larger than the limit of " +
                        std::to_string(server_.options.max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return Reject(431, "request_header_fields_too_large",
                    "the request headers are larger than the limit of " +
                        std::to_string(server_.options.max_header_bytes) + " bytes");
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return Reject(400, "bad_request", "malformed HTTP request: " + ec.message());
    }
    if (ec) return Close();  // the network failed or the peer reset: nobody to answer
    Handle();
  }

  void Handle() {
    phase_ = Phase::kHandling;
    BeastRequest request = parser_->release();
    bool keep_alive = request.keep_alive();
    bool head = request.method() == http::verb::head;
    auto response = std::make_shared<BeastResponse>(server_.Process(request, remote_));
    if (head) {
      // A HEAD response announces the length of the body it does not send.
      response->content_length(response->body().size());
      response->body().clear();
    }
    // Read after the handler: a Shutdown() that began while it ran closes this connection once the
    // requests the client has already sent (pipelined) are answered.
    Write(response, !keep_alive || (server_.shutting_down && !HasPipelinedBytes()), /*linger=*/false);
  }

  // Answers a request that could not be read (the connection is then closed: the stream is unusable).
  void Reject(int status, std::string_view code, std::string message) {
    phase_ = Phase::kHandling;
    const http::request_header<>* header = parser_->is_header_done() ? &parser_->get() : nullptr;
    HttpRequest req = server_.NewRequest(header, remote_);
    TimePoint start = server_.clock->Now();
    server_.requests_in_flight->Inc();
    auto response = std::make_shared<BeastResponse>(
        server_.Complete(req, HttpResponse::Error(status, code, message), start));
    // The client may still be sending the rest of the request: drain it so the answer is not lost.
    Write(response, /*close=*/true, /*linger=*/true);
  }

  void Write(std::shared_ptr<BeastResponse> response, bool close, bool linger) {
    phase_ = Phase::kWriting;
    response->keep_alive(!close);
    if (!response->has_content_length()) response->prepare_payload();
    Arm(server_.options.request_timeout);
    http::async_write(socket_, *response,
                      [self = shared_from_this(), response, close, linger](beast::error_code ec,
                                                                           std::size_t) {
                        self->OnWrite(ec, close, linger);
                      });
  }

  void OnWrite(beast::error_code ec, bool close, bool linger) {
    Disarm();
    if (ec) return Close();
    if (close && linger) return Linger();
    if (close || (server_.shutting_down && !HasPipelinedBytes())) return Close();
    WaitForRequest();
  }

  // Bytes of a next request already received (in our buffer or the socket's).
  bool HasPipelinedBytes() {
    beast::error_code ec;
    return buffer_.size() > 0 || socket_.available(ec) > 0;
  }

  // Half-closes, then discards whatever the client still sends until it closes too (or kLingerLimit).
  void Linger() {
    phase_ = Phase::kLingering;
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    Arm(std::min(kLingerLimit, server_.options.request_timeout));
    DrainSome();
  }

  void DrainSome() {
    socket_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->Close();
                              self->DrainSome();
                            });
  }

  void Close() {
    phase_ = Phase::kClosed;
    Disarm();
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  // One deadline per phase; a generation number makes a late timer firing for an earlier phase harmless.
  void Arm(std::chrono::milliseconds timeout) {
    ++deadline_generation_;
    timed_out_ = false;
    deadline_.expires_after(timeout);
    deadline_.async_wait([self = shared_from_this(), generation = deadline_generation_](beast::error_code ec) {
      if (ec || generation != self->deadline_generation_ || self->phase_ == Phase::kClosed) return;
      self->timed_out_ = true;
      if (self->phase_ != Phase::kReading) return self->Close();  // idle, writing or lingering: hang up
      beast::error_code ignored;
      self->socket_.cancel(ignored);  // OnRead answers 408 when part of a request has arrived
    });
  }

  void Disarm() {
    ++deadline_generation_;
    deadline_.cancel();
  }

  HttpServer::Impl& server_;
  tcp::socket socket_;
  asio::steady_timer deadline_;
  std::uint64_t deadline_generation_ = 0;
  bool timed_out_ = false;
  Phase phase_ = Phase::kIdle;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::array<char, 4096> drain_{};
};

}  // namespace

void HttpServer::Impl::DoAccept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (!acceptor.is_open() || ec == asio::error::operation_aborted) return;  // Shutdown() closed it
  if (ec) {
    if (logger != nullptr) {
      logger->Log(LogLevel::kWarn, "accept failed", {{"error", ec.message()}});
    }
    return DoAccept();
  }
  auto session = std::make_shared<Session>(*this, std::move(socket));
  {
    std::lock_guard<std::mutex> lock(mu);
    sessions.emplace(session.get(), session);
  }
  session->Start();
  DoAccept();
}

void HttpServer::Impl::Shutdown() {
  for (const std::thread& thread : threads) {
    NURT_ASSERT(thread.get_id() != std::this_thread::get_id(),
                "HttpServer::Shutdown() called from a handler: it would join the thread it runs on");
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    if (shutdown_started) {
      cv.wait(lock, [this] { return shutdown_done; });
      return;
    }
    shutdown_started = true;
  }
  shutting_down = true;
  if (logger != nullptr) logger->Log(LogLevel::kInfo, "shutting down", {{"port", port}});

  // Stop accepting. Waited for (bounded) so that once this returns, new connections are refused.
  auto closed = std::make_shared<std::promise<void>>();
  std::future<void> acceptor_closed = closed->get_future();
  asio::post(acceptor.get_executor(), [this, closed] {
    beast::error_code ec;
    acceptor.close(ec);
    closed->set_value();
  });
  acceptor_closed.wait_for(options.shutdown_grace);

  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [raw, weak] : sessions) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  for (auto& session : live) {
    asio::post(session->executor(), [session] { session->OnShutdown(); });
  }
  live.clear();

  {
    std::unique_lock<std::mutex> lock(mu);
    bool drained = cv.wait_for(lock, options.shutdown_grace, [this] { return sessions.empty(); });
    if (!drained && logger != nullptr) {
      logger->Log(LogLevel::kWarn, "shutdown grace period over; dropping open connections",
                  {{"connections", sessions.size()}, {"grace_ms", options.shutdown_grace.count()}});
    }
  }
  work.reset();
  ioc.stop();
  for (std::thread& thread : threads) {
    if (thread.joinable()) thread.join();
  }
  if (logger != nullptr) logger->Log(LogLevel::kInfo, "stopped", {{"port", port}});
  std::lock_guard<std::mutex> lock(mu);
  shutdown_done = true;
  cv.notify_all();
}

HttpRequest HttpServer::Impl::NewRequest(const http::request_header<>* header, std::string remote) {
  HttpRequest req;
  req.remote_address = std::move(remote);
  if (header != nullptr) {
    req.method = std::string(header->method_string());
    req.target = std::string(header->target());
    for (const auto& field : *header) {
      req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    req.path = std::string(internal::RawPath(req.target));
  }
  std::optional<TraceParent> parent = ParseTraceparent(req.Header("traceparent"));
  if (parent) {
    req.trace_id = parent->trace_id;
    req.trace_flags = parent->flags;
  } else {
    do {
      req.trace_id = random->Hex(16);
    } while (req.trace_id == std::string(32, '0'));  // W3C forbids all-zero ids
    req.trace_flags = 0x01;  // we record every request we start a trace for
  }
  do {
    req.span_id = random->Hex(8);
  } while (req.span_id == std::string(16, '0'));
  return req;
}

BeastResponse HttpServer::Impl::Process(BeastRequest& request, std::string remote) {
  TimePoint start = clock->Now();
  requests_in_flight->Inc();
  HttpRequest req = NewRequest(&request, std::move(remote));
  req.body = std::move(request.body());
  std::string_view raw_path = internal::RawPath(req.target);
  std::optional<std::string> path = internal::PercentDecode(raw_path, false);
  std::size_t question = req.target.find('?');
  auto query = internal::ParseQuery(question == std::string::npos ? std::string_view()
                                                                   : std::string_view(req.target).substr(question + 1));
  if (raw_path.empty() || raw_path.front() != '/' || !path || !query) {
    return Complete(req,
                    HttpResponse::Error(400, "bad_request",
                                        "the request target '" + req.target +
                                            "' is not an absolute path with valid %-escapes"),
                    start);
  }
  req.path = std::move(*path);
  req.query = std::move(*query);
  return Complete(req, Route(req), start);
}

HttpResponse HttpServer::Impl::Route(HttpRequest& req) {
  // Everything that runs code outside the server (handlers, scrape-time collectors) is inside the try:
  // an exception there is a bug to log and answer with 500, never a reason to lose the connection.
  try {
    if (req.method == "GET" && IsBuiltinPath(req.path)) {
      if (req.path == "/healthz") return HttpResponse::Json(200, {{"status", "ok"}});
      if (req.path == "/readyz") {
        if (shutting_down) {
          return HttpResponse::Json(503, {{"status", "not_ready"}, {"reason", "shutting_down"}});
        }
        if (!ready) return HttpResponse::Json(503, {{"status", "not_ready"}, {"reason", "starting"}});
        return HttpResponse::Json(200, {{"status", "ready"}});
      }
      HttpResponse response;
      response.content_type = "text/plain; version=0.0.4";
      response.body = metrics->Render();
      return response;
    }
    return handler(req);
  } catch (const std::exception& e) {
    LogHandlerFailure(req, e.what());
  } catch (...) {
    LogHandlerFailure(req, "an exception not derived from std::exception");
  }
  return HttpResponse::Error(500, "internal",
                             "internal error; report trace id " + req.trace_id + " to the operator");
}

void HttpServer::Impl::LogHandlerFailure(const HttpRequest& req, std::string_view what) {
  if (logger == nullptr) return;
  logger->Log(LogLevel::kError, "handler threw",
              {{"trace_id", req.trace_id}, {"span_id", req.span_id}, {"method", req.method},
               {"path", req.path}, {"error", what}});
}

BeastResponse HttpServer::Impl::Complete(HttpRequest& req, HttpResponse response, TimePoint start) {
  response.SetHeader("traceparent", FormatTraceparent({req.trace_id, req.span_id, req.trace_flags}));
  response.SetHeader("X-Request-Id", req.span_id);

  BeastResponse out;
  out.version(11);
  out.result(static_cast<unsigned>(response.status));
  for (const auto& [name, value] : response.headers) {
    // Framing and connection management belong to the server; a handler's copy would contradict them.
    if (HeaderNameEquals(name, "Content-Length") || HeaderNameEquals(name, "Transfer-Encoding") ||
        HeaderNameEquals(name, "Connection")) {
      continue;
    }
    out.insert(name, value);
  }
  out.set(http::field::content_type, response.content_type);
  out.body() = std::move(response.body);

  double seconds = static_cast<double>((clock->Now() - start).count()) / 1000.0;
  std::string route = !req.route.empty()           ? req.route
                      : IsBuiltinPath(req.path) && req.method == "GET" ? req.path
                                                                       : "unmatched";
  std::string method = MethodLabel(req.method);
  requests_total->With({{"method", method}, {"route", route}, {"status", std::to_string(response.status)}})
      .Inc();
  request_duration->With({{"method", method}, {"route", route}}).Observe(seconds);
  requests_in_flight->Dec();

  if (logger != nullptr) {
    nurt::Json fields = {{"method", req.method},
                         {"route", req.route.empty() ? req.path : req.route},
                         {"status", response.status},
                         {"duration_ms", static_cast<std::int64_t>(seconds * 1000.0 + 0.5)},
                         {"trace_id", req.trace_id},
                         {"span_id", req.span_id},
                         {"remote", req.remote_address},
                         {"bytes_in", req.body.size()},
                         {"bytes_out", out.body().size()}};
    for (const auto& [key, value] : response.log_fields) fields[key] = value;
    logger->Log(LogLevel::kInfo, "request", std::move(fields));
  }
  return out;
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Shutdown(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options, HttpHandler handler,
                                                      Logger* logger, MetricsRegistry* metrics,
                                                      const env::Clock* clock, env::Random* random) {
  if (options.threads < 1) {
    return Status::InvalidArgument("HTTP server threads must be at least 1, got " +
                                   std::to_string(options.threads));
  }
  if (options.request_timeout.count() <= 0 || options.idle_timeout.count() <= 0 ||
      options.shutdown_grace.count() < 0) {
    return Status::InvalidArgument("HTTP server timeouts must be positive (shutdown grace may be 0)");
  }
  if (options.max_body_bytes == 0 || options.max_header_bytes == 0) {
    return Status::InvalidArgument("HTTP server body and header limits must be positive");
  }
  if (!handler) return Status::InvalidArgument("HTTP server needs a handler");
  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(options.address, ec);
  if (ec) {
    return Status::InvalidArgument("listen address '" + options.address +
                                   "' is not an IP address (use e.g. 127.0.0.1 or ::1)");
  }

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  impl->logger = logger;
  if (metrics == nullptr) {
    impl->own_metrics = std::make_unique<MetricsRegistry>();
    metrics = impl->own_metrics.get();
  }
  impl->metrics = metrics;
  impl->clock = clock != nullptr ? clock : env::SystemClock();
  impl->random = random != nullptr ? random : env::SystemRandom();
  impl->requests_total = &metrics->counter_family("nurt_http_requests_total", "HTTP requests answered.",
                                                  {"method", "route", "status"});
  impl->request_duration = &metrics->histogram_family("nurt_http_request_duration_seconds",
                                                      "Time from reading a request to its response.",
                                                      {"method", "route"}, DefaultDurationBuckets());
  impl->connections_open = &metrics->gauge("nurt_http_connections_open", "Open HTTP connections.");
  impl->requests_in_flight = &metrics->gauge("nurt_http_requests_in_flight", "HTTP requests being handled.");

  tcp::endpoint endpoint(address, options.port);
  std::string where = options.address + ":" + std::to_string(options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot listen on " + where + ": " + ec.message() +
                               " (is another process using the port? choose another with NURT_PORT)");
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->work.emplace(impl->ioc.get_executor());
  impl->DoAccept();
  Impl* raw = impl.get();
  for (int i = 0; i < options.threads; ++i) {
    raw->threads.emplace_back([raw] {
      // An exception escaping a completion handler would end the thread and then the process; log it
      // and keep the pool whole (handler exceptions never get here: Route() turns them into 500s).
      while (true) {
        try {
          raw->ioc.run();
          return;
        } catch (const std::exception& e) {
          if (raw->logger != nullptr) raw->logger->Log(LogLevel::kError, "server thread error", {{"error", e.what()}});
        }
      }
    });
  }
  if (logger != nullptr) {
    logger->Log(LogLevel::kInfo, "listening",
                {{"address", options.address}, {"port", raw->port}, {"threads", options.threads}});
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

std::uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::SetReady(bool ready) { impl_->ready = ready; }

void HttpServer::Shutdown() { impl_->Shutdown(); }

void HttpServer::Wait() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->cv.wait(lock, [this] { return impl_->shutdown_done; });
}

}  // namespace nurt::server
