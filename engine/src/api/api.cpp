#include "nurt/api/api.hpp"

#include <utility>

#include "api/api_error.hpp"
#include "api/route_table.hpp"
#include "nurt/server/router.hpp"

namespace nurt::api {

std::string Call::IdempotencyKey() const {
  std::string key = request.Header("Idempotency-Key");
  if (key.size() > 200) {
    Throw(400, "invalid_header", "the Idempotency-Key header is " + std::to_string(key.size()) +
                                     " characters long; at most 200 are allowed (a UUID or ULID fits)");
  }
  return key;
}

server::HttpResponse JsonResponse(int status, const Json& body) {
  return server::HttpResponse::Json(status, body);
}

int PageLimit(const server::HttpRequest& request) {
  const std::string text = request.QueryParam("limit");
  if (text.empty()) return 100;
  int value = 0;
  try {
    std::size_t used = 0;
    value = std::stoi(text, &used);
    if (used != text.size()) value = 0;
  } catch (const std::exception&) {
    value = 0;
  }
  // One row more than the page is read to know whether another page follows; the stores cap a read at
  // 1000 rows.
  if (value < 1 || value > kMaxPageSize) {
    Throw(400, "invalid_query",
          "limit must be an integer from 1 to " + std::to_string(kMaxPageSize) + ", got '" + text + "'");
  }
  return value;
}

void Committed(const ApiOptions& deps, const engine::Outcome& outcome) {
  if (outcome.replayed) return;  // nothing new was written
  if (deps.metrics != nullptr) {
    deps.metrics->counter("nurt_events_accepted_total", "Events committed (starts, events, task decisions, overrides).",
                          {{"machine", outcome.machine}})
        .Inc();
    deps.metrics->counter("nurt_transitions_total", "Transitions taken by committed events.",
                          {{"machine", outcome.machine}})
        .Inc(static_cast<double>(outcome.transitions.size()));
  }
  if (deps.after_commit) deps.after_commit();
}

Json TimeOrNull(const std::optional<TimePoint>& t) {
  return t ? Json(FormatIso8601(*t)) : Json(nullptr);
}

namespace {

std::string BearerToken(const server::HttpRequest& request) {
  const std::string auth = request.Header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() > kBearer.size() && auth.compare(0, kBearer.size(), kBearer) == 0) {
    return auth.substr(kBearer.size());
  }
  return request.Header("X-API-Key");
}

server::HttpResponse ErrorResponse(const ApiError& e) { return JsonResponse(e.http_status, e.ToJson()); }

}  // namespace

class Api::Impl {
 public:
  explicit Impl(ApiOptions options) : deps_(std::move(options)) {
    AddDefinitionRoutes(table_, deps_);
    AddInstanceRoutes(table_, deps_);
    AddExportRoutes(table_, deps_);
    AddTaskRoutes(table_, deps_);
    AddKeyRoutes(table_, deps_);
    AddScheduleRoutes(table_, deps_);
    AddWebhookRoutes(table_, deps_);
    AddEffectRoutes(table_, deps_);
    table_.Add("GET", "/v1/me", "", [](Call& call) {
      const auth::Principal& p = *call.principal;
      return JsonResponse(200, Json{{"org", p.org_id}, {"keyId", p.key_id}, {"name", p.key_name},
                                    {"role", p.role}, {"tier", p.tier}, {"scopes", p.scopes}});
    });
    for (const RouteSpec& spec : table_.routes()) {
      router_.Add(spec.method, spec.path,
                  [this, &spec](server::HttpRequest& request) { return Guarded(spec, request); });
    }
  }

  server::HttpResponse Handle(server::HttpRequest& request) { return router_.Dispatch(request); }

  std::vector<std::pair<std::string, std::string>> Routes() const { return router_.Routes(); }

 private:
  server::HttpResponse Guarded(const RouteSpec& spec, server::HttpRequest& request) {
    std::optional<auth::Principal> principal;
    std::optional<auth::RateDecision> rate;
    server::HttpResponse response;
    try {
      if (spec.scope == kPublic) {
        // Task links carry their own proof; limit them per client address so a leaked link cannot be
        // used to hammer the server.
        if (deps_.rate_limiter) rate = deps_.rate_limiter->Take("remote:" + request.remote_address, "basic");
      } else {
        const std::string token = BearerToken(request);
        if (token.empty()) {
          Throw(401, "unauthenticated",
                "this route needs an API key: send 'Authorization: Bearer nurt_…' (create one with "
                "`nurt keys create`)");
        }
        principal = ValueOrThrow(deps_.keys->Authenticate(token));
        if (deps_.rate_limiter) rate = deps_.rate_limiter->Take(principal->key_id, principal->tier);
      }
      if (rate && !rate->allowed) {
        Throw(429, "rate_limited",
              "rate limit of " + std::to_string(rate->limit) + " requests per minute reached; retry in " +
                  std::to_string(rate->retry_after_seconds) + " s" +
                  (principal ? " (key tier '" + principal->tier + "')" : ""));
      }
      if (principal && !spec.scope.empty() && !principal->Allows(spec.scope)) {
        Throw(403, "permission_denied",
              "API key '" + principal->key_name + "' lacks the scope '" + spec.scope + "' that " +
                  spec.method + " " + spec.path + " needs; an admin can create a key with it",
              "", Json{{"requiredScope", spec.scope}});
      }
      Call call{request, principal ? &*principal : nullptr};
      response = spec.handler(call);
    } catch (const ApiError& e) {
      response = ErrorResponse(e);
    }
    if (rate) {
      response.SetHeader("X-RateLimit-Limit", std::to_string(rate->limit));
      response.SetHeader("X-RateLimit-Remaining", std::to_string(rate->remaining));
      response.SetHeader("X-RateLimit-Reset", std::to_string(rate->reset_seconds));
      if (!rate->allowed) response.SetHeader("Retry-After", std::to_string(rate->retry_after_seconds));
    }
    if (response.status == 401) response.SetHeader("WWW-Authenticate", "Bearer realm=\"nurt\"");
    if (principal) {
      response.log_fields["org"] = principal->org_id;
      response.log_fields["key_id"] = principal->key_id;
    }
    return response;
  }

  ApiOptions deps_;
  RouteTable table_;
  server::Router router_;
};

Api::Api(ApiOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Api::~Api() = default;
server::HttpResponse Api::Handle(server::HttpRequest& request) { return impl_->Handle(request); }
std::vector<std::pair<std::string, std::string>> Api::Routes() const { return impl_->Routes(); }

}  // namespace nurt::api
