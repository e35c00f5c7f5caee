// HttpServer over real sockets on 127.0.0.1 (ephemeral ports), with the blocking HttpTestClient.

#include "nurt/server/http_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <sstream>
#include <thread>

#include "http_test_client.hpp"
#include "manual_clock.hpp"
#include "nurt/server/router.hpp"
#include "seeded_random.hpp"

namespace nurt::server {
namespace {

using testing::HttpTestClient;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::vector<nurt::Json> ParseLines(const std::string& text) {
  std::vector<nurt::Json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(nurt::Json::parse(line));
  return lines;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpHandler handler, HttpServerOptions options = {}) {
    options.address = "127.0.0.1";
    options.port = 0;
    auto server = HttpServer::Start(options, std::move(handler), &logger_, &metrics_, &clock_, &random_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
  }

  // Access-log lines with msg "request"; call after Shutdown() (the pool is joined, the log complete).
  std::vector<nurt::Json> RequestLogLines() {
    std::vector<nurt::Json> out;
    for (nurt::Json& line : ParseLines(log_.str())) {
      if (line["msg"] == "request") out.push_back(std::move(line));
    }
    return out;
  }

  static HttpResponse Echo(HttpRequest& req) {
    nurt::Json query = nurt::Json::array();
    for (const auto& [name, value] : req.query) query.push_back({name, value});
    return HttpResponse::Json(200, {{"method", req.method},
                                    {"path", req.path},
                                    {"query", query},
                                    {"body", req.body},
                                    {"trace_id", req.trace_id},
                                    {"span_id", req.span_id},
                                    {"remote", req.remote_address},
                                    {"x_test", req.Header("x-TEST")}});
  }

  std::ostringstream log_;
  nurt::testing::ManualClock clock_;
  nurt::testing::SeededRandom random_{7};
  Logger logger_{&log_, LogLevel::kDebug, &clock_};
  MetricsRegistry metrics_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, HealthzReadyzAndMetricsAreBuiltIn) {
  StartServer([](HttpRequest&) { return HttpResponse::Error(418, "teapot", "handler reached"); });
  HttpTestClient client(server_->port());

  auto health = client.Request("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(nurt::Json::parse(health.body), (nurt::Json{{"status", "ok"}}));
  EXPECT_EQ(health.Header("content-type"), "application/json");

  auto not_ready = client.Request("GET", "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_EQ(nurt::Json::parse(not_ready.body)["reason"], "starting");
  server_->SetReady(true);
  auto ready = client.Request("GET", "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(nurt::Json::parse(ready.body)["status"], "ready");

  auto metrics = client.Request("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.Header("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_THAT(metrics.body, HasSubstr("# TYPE nurt_http_requests_total counter\n"));
  EXPECT_THAT(metrics.body,
              HasSubstr("nurt_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"503\"} 1\n"));
  EXPECT_THAT(metrics.body, HasSubstr("nurt_http_connections_open 1\n"));
  EXPECT_THAT(metrics.body, HasSubstr("nurt_http_requests_in_flight 1\n"));  // the scrape itself

  // Other methods on those paths are the handler's business.
  EXPECT_EQ(client.Request("POST", "/healthz").status, 418);
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer(Echo);
  HttpTestClient client(server_->port());
  auto first = client.Request("POST", "/a%20b/c?x=1&y=two+words&x=%2F", "hello", {{"X-Test", "yes"}});
  auto second = client.Request("GET", "/second");
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(second.status, 200);
  nurt::Json body = nurt::Json::parse(first.body);
  EXPECT_EQ(body["method"], "POST");
  EXPECT_EQ(body["path"], "/a b/c");
  EXPECT_EQ(body["query"], nurt::Json::parse(R"([["x","1"],["y","two words"],["x","/"]])"));
  EXPECT_EQ(body["body"], "hello");
  EXPECT_EQ(body["x_test"], "yes");
  EXPECT_EQ(body["remote"], "127.0.0.1");
  EXPECT_NE(first.Header("Connection"), "close");
  EXPECT_EQ(metrics_.gauge("nurt_http_connections_open", "Open HTTP connections.").Value(), 1);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer(Echo);
  HttpTestClient client(server_->port());
  client.SendRaw("GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(nurt::Json::parse(client.ReadResponse().body)["path"], "/one");
  EXPECT_EQ(nurt::Json::parse(client.ReadResponse().body)["path"], "/two");
}

TEST_F(HttpServerTest, ExpectContinueGetsA100BeforeTheBody) {
  StartServer(Echo);
  HttpTestClient client(server_->port());
  client.SendRaw("POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  EXPECT_EQ(client.ReadResponse().status, 100);
  client.SendRaw("hello");
  auto response = client.ReadResponse();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(nurt::Json::parse(response.body)["body"], "hello");
}

TEST_F(HttpServerTest, HeadAnswersHaveNoBodyAndKeepTheConnectionUsable) {
  StartServer([](HttpRequest& req) {
    HttpResponse response = HttpResponse::Json(200, {{"method", req.method}});
    response.SetHeader("Content-Length", "999");  // ignored: framing is the server's
    return response;
  });
  HttpTestClient client(server_->port());
  auto head = client.Request("HEAD", "/h");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.Header("Content-Length"), "17");
  auto get = client.Request("GET", "/h");
  EXPECT_EQ(get.body, R"({"method":"GET"})");
  EXPECT_EQ(get.Header("Content-Length"), "16");
}

TEST_F(HttpServerTest, RoutesThroughARouter) {
  Router router;
  router.Add("GET", "/v1/instances/{id}", [](HttpRequest& req) {
    return HttpResponse::Json(200, {{"id", req.path_params.at("id")}, {"route", req.route}});
  });
  StartServer(router.AsHandler());
  HttpTestClient client(server_->port());
  auto found = client.Request("GET", "/v1/instances/a%2Fb");
  ASSERT_EQ(found.status, 200);
  EXPECT_EQ(nurt::Json::parse(found.body), (nurt::Json{{"id", "a/b"}, {"route", "/v1/instances/{id}"}}));
  auto wrong_method = client.Request("DELETE", "/v1/instances/x");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.Header("Allow"), "GET");
  EXPECT_EQ(client.Request("GET", "/nope").status, 404);
  server_->Shutdown();

  std::vector<nurt::Json> lines = RequestLogLines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["route"], "/v1/instances/{id}");
  EXPECT_EQ(lines[2]["route"], "/nope");  // no template: the path
  std::string text = metrics_.Render();
  EXPECT_THAT(text, HasSubstr("nurt_http_requests_total{method=\"GET\",route=\"/v1/instances/{id}\","
                              "status=\"200\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nurt_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1\n"));
}

TEST_F(HttpServerTest, ContentLengthOverTheLimitIs413WithoutReadingTheBody) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  std::atomic<int> calls{0};
  StartServer([&](HttpRequest&) { ++calls; return HttpResponse::Json(200, {}); }, options);
  HttpTestClient client(server_->port());
  client.SendRaw("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n");
  auto response = client.ReadResponse();
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(nurt::Json::parse(response.body)["error"]["code"], "payload_too_large");
  EXPECT_EQ(response.Header("Connection"), "close");
  EXPECT_TRUE(client.WaitForClose(10s));
  EXPECT_EQ(calls, 0);
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIs413) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  StartServer([](HttpRequest&) { return HttpResponse::Json(200, {}); }, options);
  HttpTestClient client(server_->port());
  std::string chunk(800, 'a');
  client.SendRaw("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "320\r\n" + chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n");
  auto response = client.ReadResponse();
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(nurt::Json::parse(response.body)["error"]["code"], "payload_too_large");
  EXPECT_TRUE(client.WaitForClose(10s));

  // A chunked body under the limit is fine.
  HttpTestClient second(server_->port());
  second.SendRaw("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(second.ReadResponse().status, 200);
}

TEST_F(HttpServerTest, GarbageIs400AndTheConnectionCloses) {
  StartServer([](HttpRequest&) { return HttpResponse::Json(200, {}); });
  HttpTestClient client(server_->port());
  client.SendRaw("THIS IS NOT HTTP\r\n\r\n");
  auto response = client.ReadResponse();
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(nurt::Json::parse(response.body)["error"]["code"], "bad_request");
  EXPECT_TRUE(client.WaitForClose(10s));

  HttpTestClient bad_target(server_->port());
  bad_target.SendRaw("GET /bad%zz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(bad_target.ReadResponse().status, 400);
}

TEST_F(HttpServerTest, OversizedHeadersAre431) {
  HttpServerOptions options;
  options.max_header_bytes = 1024;
  StartServer([](HttpRequest&) { return HttpResponse::Json(200, {}); }, options);
  HttpTestClient client(server_->port());
  client.SendRaw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'b') + "\r\n\r\n");
  auto response = client.ReadResponse();
  EXPECT_EQ(response.status, 431);
  EXPECT_EQ(nurt::Json::parse(response.body)["error"]["code"], "request_header_fields_too_large");
  EXPECT_TRUE(client.WaitForClose(10s));
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  HttpServerOptions options;
  options.idle_timeout = 200ms;
  StartServer([](HttpRequest&) { return HttpResponse::Json(200, {}); }, options);
  HttpTestClient client(server_->port());
  EXPECT_EQ(client.Request("GET", "/").status, 200);
  EXPECT_TRUE(client.WaitForClose(10s));
}

TEST_F(HttpServerTest, RequestNotArrivingWholeInTimeIs408) {
  HttpServerOptions options;
  options.request_timeout = 300ms;
  StartServer([](HttpRequest&) { return HttpResponse::Json(200, {}); }, options);
  HttpTestClient client(server_->port());
  client.SendRaw("GET / HTTP/1.1\r\nHost: x\r\n");  // never finished
  auto response = client.ReadResponse();
  EXPECT_EQ(response.status, 408);
  EXPECT_EQ(nurt::Json::parse(response.body)["error"]["code"], "request_timeout");
  EXPECT_TRUE(client.WaitForClose(10s));
}

TEST_F(HttpServerTest, ValidTraceparentIsPropagatedWithANewSpan) {
  StartServer(Echo);
  HttpTestClient client(server_->port());
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto response = client.Request("GET", "/t", "", {{"traceparent", "00-" + trace + "-00f067aa0ba902b7-00"}});
  nurt::Json body = nurt::Json::parse(response.body);
  EXPECT_EQ(body["trace_id"], trace);
  std::string span = body["span_id"];
  EXPECT_EQ(span.size(), 16u);
  EXPECT_NE(span, "00f067aa0ba902b7");
  EXPECT_EQ(response.Header("traceparent"), "00-" + trace + "-" + span + "-00");
  EXPECT_EQ(response.Header("X-Request-Id"), span);
}

TEST_F(HttpServerTest, MissingOrInvalidTraceparentStartsANewTrace) {
  StartServer(Echo);
  HttpTestClient client(server_->port());
  auto invalid = client.Request("GET", "/t", "",
                                {{"traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}});
  auto absent = client.Request("GET", "/t");
  for (const auto& response : {invalid, absent}) {
    nurt::Json body = nurt::Json::parse(response.body);
    std::string trace = body["trace_id"];
    ASSERT_EQ(trace.size(), 32u);
    EXPECT_NE(trace, std::string(32, '0'));
    EXPECT_EQ(response.Header("traceparent"), "00-" + trace + "-" + body["span_id"].get<std::string>() + "-01");
  }
  EXPECT_NE(nurt::Json::parse(invalid.body)["trace_id"], nurt::Json::parse(absent.body)["trace_id"]);
}

TEST_F(HttpServerTest, HandlerExceptionIs500AndTheServerKeepsServing) {
  StartServer([](HttpRequest& req) -> HttpResponse {
    if (req.path == "/boom") throw std::runtime_error("kaboom");
    return HttpResponse::Json(200, {{"ok", true}});
  });
  HttpTestClient client(server_->port());
  auto failed = client.Request("GET", "/boom");
  EXPECT_EQ(failed.status, 500);
  nurt::Json error = nurt::Json::parse(failed.body)["error"];
  EXPECT_EQ(error["code"], "internal");
  EXPECT_THAT(error["message"].get<std::string>(), ::testing::Not(HasSubstr("kaboom")));  // detail only in logs
  EXPECT_EQ(client.Request("GET", "/fine").status, 200);
  EXPECT_EQ(HttpTestClient(server_->port()).Request("GET", "/fine").status, 200);
  server_->Shutdown();

  std::string trace_id = failed.Header("traceparent").substr(3, 32);
  bool logged = false;
  for (const nurt::Json& line : ParseLines(log_.str())) {
    if (line["msg"] == "handler threw") {
      EXPECT_EQ(line["level"], "error");
      EXPECT_EQ(line["trace_id"], trace_id);
      EXPECT_EQ(line["error"], "kaboom");
      logged = true;
    }
  }
  EXPECT_TRUE(logged) << log_.str();
}

TEST_F(HttpServerTest, ThrowingMetricsCollectorIs500NotACrash) {
  metrics_.AddCollector([](MetricsWriter&) { throw std::runtime_error("store unavailable"); });
  StartServer([](HttpRequest&) { return HttpResponse::Json(200, {}); });
  HttpTestClient client(server_->port());
  auto scrape = client.Request("GET", "/metrics");
  EXPECT_EQ(scrape.status, 500);
  EXPECT_EQ(nurt::Json::parse(scrape.body)["error"]["code"], "internal");
  EXPECT_EQ(client.Request("GET", "/healthz").status, 200);
}

TEST_F(HttpServerTest, AccessLogAndDurationUseTheInjectedClock) {
  StartServer([this](HttpRequest& req) {
    clock_.Advance(1500ms);
    HttpResponse response = HttpResponse::Json(201, {{"created", true}});
    response.log_fields["org"] = "acme";
    (void)req;
    return response;
  });
  HttpTestClient client(server_->port());
  auto response = client.Request("POST", "/things", "{\"a\":1}");
  ASSERT_EQ(response.status, 201);
  server_->Shutdown();

  std::vector<nurt::Json> lines = RequestLogLines();
  ASSERT_EQ(lines.size(), 1u);
  const nurt::Json& line = lines[0];
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["method"], "POST");
  EXPECT_EQ(line["route"], "/things");
  EXPECT_EQ(line["status"], 201);
  EXPECT_EQ(line["duration_ms"], 1500);
  EXPECT_EQ(line["trace_id"], response.Header("traceparent").substr(3, 32));
  EXPECT_EQ(line["span_id"], response.Header("X-Request-Id"));
  EXPECT_EQ(line["remote"], "127.0.0.1");
  EXPECT_EQ(line["bytes_in"], 7);
  EXPECT_EQ(line["bytes_out"], response.body.size());
  EXPECT_EQ(line["org"], "acme");

  std::string text = metrics_.Render();
  EXPECT_THAT(text, HasSubstr("nurt_http_request_duration_seconds_bucket{method=\"POST\",route=\"unmatched\","
                              "le=\"1\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("nurt_http_request_duration_seconds_bucket{method=\"POST\",route=\"unmatched\","
                              "le=\"2.5\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("nurt_http_request_duration_seconds_sum{method=\"POST\",route=\"unmatched\"} 1.5\n"));
  EXPECT_THAT(text, HasSubstr("nurt_http_connections_open 0\n"));
  EXPECT_THAT(text, HasSubstr("nurt_http_requests_in_flight 0\n"));
}

TEST_F(HttpServerTest, GracefulShutdownFinishesTheRequestsInFlightAndRefusesNewConnections) {
  std::atomic<int> entered_count{0};
  std::promise<void> both_entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  StartServer([&](HttpRequest& req) {
    if (req.path == "/slow") {
      if (++entered_count == 2) both_entered.set_value();
      released.wait();
    }
    return HttpResponse::Json(200, {{"path", req.path}});
  });
  server_->SetReady(true);
  std::uint16_t port = server_->port();
  HttpTestClient idle(port);
  EXPECT_EQ(idle.Request("GET", "/warm").status, 200);

  std::future<HttpTestClient::Response> plain = std::async(std::launch::async, [port] {
    return HttpTestClient(port).Request("GET", "/slow");
  });
  // /readyz is pipelined behind /slow: received before Shutdown(), so it is answered too.
  std::future<std::pair<HttpTestClient::Response, HttpTestClient::Response>> pipelined =
      std::async(std::launch::async, [port] {
        HttpTestClient client(port);
        client.SendRaw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
        HttpTestClient::Response slow = client.ReadResponse();
        return std::pair{slow, client.ReadResponse()};
      });
  ASSERT_EQ(both_entered.get_future().wait_for(10s), std::future_status::ready);

  std::thread stopper([this] { server_->Shutdown(); });
  // Shutdown() closes idle connections only after the listening socket: no sleep-and-poll needed.
  EXPECT_TRUE(idle.WaitForClose(10s)) << "the idle keep-alive connection was not closed";
  EXPECT_FALSE(HttpTestClient::CanConnect(port)) << "a new connection was accepted during Shutdown()";

  release.set_value();
  ASSERT_EQ(plain.wait_for(10s), std::future_status::ready);
  HttpTestClient::Response response = plain.get();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("Connection"), "close");
  ASSERT_EQ(pipelined.wait_for(10s), std::future_status::ready);
  auto [slow, readyz] = pipelined.get();
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(readyz.status, 503);
  EXPECT_EQ(nurt::Json::parse(readyz.body)["reason"], "shutting_down");
  EXPECT_EQ(readyz.Header("Connection"), "close");
  stopper.join();   // Shutdown() returned
  server_->Wait();  // and Wait() does not block after it
  server_->Shutdown();  // idempotent
}

TEST_F(HttpServerTest, ABlockedHandlerDoesNotStallOtherConnections) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  HttpServerOptions options;
  options.threads = 2;
  StartServer([&](HttpRequest& req) {
    if (req.path == "/slow") {
      entered.set_value();
      released.wait();
    }
    return HttpResponse::Json(200, {{"path", req.path}});
  }, options);
  std::uint16_t port = server_->port();
  std::future<int> slow = std::async(std::launch::async, [port] {
    return HttpTestClient(port).Request("GET", "/slow").status;
  });
  ASSERT_EQ(entered.get_future().wait_for(10s), std::future_status::ready);
  HttpTestClient other(port);
  EXPECT_EQ(other.Request("GET", "/fast").status, 200);
  EXPECT_EQ(other.Request("GET", "/healthz").status, 200);
  release.set_value();
  EXPECT_EQ(slow.get(), 200);
}

TEST_F(HttpServerTest, WaitReturnsWhenAnotherThreadShutsDown) {
  StartServer([](HttpRequest&) { return HttpResponse::Json(200, {}); });
  std::thread stopper([this] { server_->Shutdown(); });
  server_->Wait();
  stopper.join();
  EXPECT_FALSE(HttpTestClient::CanConnect(server_->port()));
}

TEST_F(HttpServerTest, RunsWithoutOptionalCollaborators) {
  auto server = HttpServer::Start({}, [](HttpRequest&) { return HttpResponse::Json(200, {{"ok", true}}); },
                                  nullptr, nullptr, nullptr, nullptr);
  ASSERT_TRUE(server.ok()) << server.status();
  HttpTestClient client((*server)->port());
  EXPECT_EQ(client.Request("GET", "/x").status, 200);
  auto metrics = client.Request("GET", "/metrics");
  EXPECT_THAT(metrics.body,
              HasSubstr("nurt_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"200\"} 1\n"));
  EXPECT_EQ(metrics.Header("traceparent").size(), 55u);
}

TEST_F(HttpServerTest, PortInUseIsUnavailable) {
  StartServer([](HttpRequest&) { return HttpResponse::Json(200, {}); });
  HttpServerOptions options;
  options.port = server_->port();
  auto second = HttpServer::Start(options, [](HttpRequest&) { return HttpResponse::Json(200, {}); }, nullptr,
                                  nullptr, nullptr, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsUnavailable()) << second.status();
  EXPECT_THAT(second.status().message(), HasSubstr(std::to_string(server_->port())));

  options.port = 0;
  options.address = "not-an-ip";
  auto bad = HttpServer::Start(options, [](HttpRequest&) { return HttpResponse::Json(200, {}); }, nullptr,
                               nullptr, nullptr, nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
}

}  // namespace
}  // namespace nurt::server
