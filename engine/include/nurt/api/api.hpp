#pragma once
// nurt::api::Api — the `/v1` HTTP API of the daemon, as one handler for server::HttpServer.
//
//   HttpServer ─▶ Api::Handle ─▶ authenticate (API key or signed task link) ─▶ rate limit ─▶ scope
//              ─▶ route handler ─▶ Engine / Store / ApiKeyService ─▶ JSON response
//
// Tenancy: the organisation is never taken from the request; it is the calling key's. Every lookup is
// made within that organisation, so another organisation's objects answer 404 exactly like missing ones.
// The routes, their scopes and their bodies are documented in schemas/openapi.yaml (a test holds the two
// together).
//
// Thread-safety: Handle may be called from every server thread at once; the dependencies must allow it
// (Engine, Store, ApiKeyService and RateLimiter do).

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nurt/auth/api_key_service.hpp"
#include "nurt/auth/rate_limiter.hpp"
#include "nurt/auth/task_link.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/schedule/scheduler.hpp"
#include "nurt/server/http_message.hpp"
#include "nurt/server/logger.hpp"
#include "nurt/server/metrics.hpp"
#include "nurt/store/store.hpp"
#include "nurt/webhooks/webhook_service.hpp"

namespace nurt::api {

struct ApiOptions {
  engine::Engine* engine = nullptr;          // required
  store::Store* store = nullptr;             // required (history, lists, exports)
  auth::ApiKeyService* keys = nullptr;       // required
  auth::RateLimiter* rate_limiter = nullptr; // null = no rate limiting (and no X-RateLimit-* headers)
  const auth::TaskLinkSigner* task_links = nullptr;  // required
  const env::Clock* clock = nullptr;         // required
  server::MetricsRegistry* metrics = nullptr;  // optional
  server::Logger* logger = nullptr;            // optional
  // Called after a request committed something that may have produced internal effects (emit to
  // another instance, spawn), so the daemon can deliver them without waiting for its next sweep.
  std::function<void()> after_commit;
  // The daemon's schedules (GET /v1/schedules); null = no schedules are loaded (the routes answer an
  // empty list and 404).
  schedule::Scheduler* schedules = nullptr;
  // Outbound webhook subscriptions (/v1/webhooks); null = the routes answer 503.
  webhooks::WebhookService* webhooks = nullptr;
  // The effect dispatcher's circuit breakers, each {"adapter", "endpoint", "state", …} (the integrations
  // dashboard); null = none running.
  std::function<Json()> effect_breakers;
};

class Api {
 public:
  explicit Api(ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  server::HttpResponse Handle(server::HttpRequest& request);

  // Every (method, path template) the API answers, for the OpenAPI coverage test.
  std::vector<std::pair<std::string, std::string>> Routes() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nurt::api
