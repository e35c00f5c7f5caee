// /v1/effects (the retry queue and the dead-letter queue of adapter effects, with the operator's actions)
// and /v1/integrations (the integration log, its statistics and the dashboard). docs/effects.md. Every
// action on an effect is written with an audit_log record in the same transaction.

#include <memory>

#include "api/api_error.hpp"
#include "api/json_body.hpp"
#include "api/route_table.hpp"
#include "nurt/auth/scopes.hpp"
#include "nurt/effects/effect_admin.hpp"
#include "nurt/env/id_generator.hpp"

namespace nurt::api {
namespace {

constexpr std::chrono::hours kDefaultLogWindow{24 * 7};

// Ranges are [since, until); "until now" includes what happened at this very millisecond.
TimePoint UpToNow(const ApiOptions& deps) { return deps.clock->Now() + std::chrono::milliseconds(1); }

std::optional<TimePoint> TimeParam(const server::HttpRequest& request, const char* name) {
  const std::string text = request.QueryParam(name);
  if (text.empty()) return std::nullopt;
  auto t = ParseIso8601(text);
  if (!t.ok()) Throw(400, "invalid_query", std::string(name) + " must be an ISO-8601 time, got '" + text + "'");
  return *t;
}

server::HttpResponse Act(const ApiOptions& deps, effects::EffectAdmin& admin, Call& call,
                         const std::string& action, const std::string& reason) {
  const std::string& id = call.Param("id");
  auto after = ValueOrThrow(admin.Act(call.org(), id, action, call.actor(), reason));
  if (action == "delete") return JsonResponse(200, Json{{"id", id}, {"deleted", true}});
  if (deps.after_commit) deps.after_commit();  // wakes the dispatcher for a retried effect
  return JsonResponse(200, after.ToJson());
}

}  // namespace

void AddEffectRoutes(RouteTable& table, const ApiOptions& deps) {
  const std::string scope(auth::kManageEffects);
  std::shared_ptr<env::IdGenerator> ids(env::NewUlidGenerator(deps.clock).release());
  auto admin = std::make_shared<effects::EffectAdmin>(deps.store, deps.clock, ids.get());

  table.Add("GET", "/v1/effects", scope, [&deps](Call& call) {
    const int limit = PageLimit(call.request);
    store::EffectFilter f;
    f.status = call.request.QueryParam("status");
    f.adapter = call.request.QueryParam("adapter");
    f.instance_id = call.request.QueryParam("instance");
    f.after_id = call.request.QueryParam("cursor");
    f.limit = limit + 1;
    if (!f.status.empty() && f.status != "pending" && f.status != "dead" && f.status != "done") {
      Throw(400, "invalid_query", "status must be pending (the retry queue), dead (the DLQ) or done, got '" +
                                      f.status + "'");
    }
    auto rows = ValueOrThrow(deps.store->ListEffects(call.org(), f));
    Json items = Json::array();
    Json next = nullptr;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (static_cast<int>(i) == limit) {
        next = rows[i - 1].item.id;
        break;
      }
      items.push_back(rows[i].ToJson());
    }
    return JsonResponse(200, Json{{"items", std::move(items)}, {"nextCursor", std::move(next)}});
  });

  table.Add("GET", "/v1/effects/{id}", scope, [&deps](Call& call) {
    return JsonResponse(200, ValueOrThrow(deps.store->GetEffect(call.org(), call.Param("id"))).ToJson());
  });

  for (const std::string action : {"retry", "skip"}) {
    table.Add("POST", "/v1/effects/{id}/" + action, scope, [&deps, ids, admin, action](Call& call) {
      Json body = ParseJsonBody(call.request.body, true);
      BodyReader r(body);
      r.RejectUnknown({"reason"});
      const std::string reason = action == "skip" ? r.RequiredString("reason") : r.OptionalString("reason");
      return Act(deps, *admin, call, action, reason);
    });
  }

  table.Add("DELETE", "/v1/effects/{id}", scope, [&deps, ids, admin](Call& call) {
    return Act(deps, *admin, call, "delete", call.request.QueryParam("reason"));
  });

  table.Add("POST", "/v1/effects/retry-all", scope, [&deps, ids, admin](Call& call) {
    Json body = ParseJsonBody(call.request.body, true);
    BodyReader r(body);
    r.RejectUnknown({"reason", "adapter", "instance"});
    auto retried = ValueOrThrow(admin->RetryAll(call.org(), r.OptionalString("adapter"),
                                                r.OptionalString("instance"), call.actor(), r.OptionalString("reason")));
    if (deps.after_commit && !retried.empty()) deps.after_commit();
    return JsonResponse(200, Json{{"retried", retried.size()}, {"ids", retried}});
  });

  table.Add("GET", "/v1/integrations/log", scope, [&deps](Call& call) {
    const int limit = PageLimit(call.request);
    store::IntegrationFilter f;
    f.until = TimeParam(call.request, "until");
    f.since = TimeParam(call.request, "since");
    if (!f.since) f.since = deps.clock->Now() - kDefaultLogWindow;
    f.status = call.request.QueryParam("status");
    f.system = call.request.QueryParam("system");
    f.event_type = call.request.QueryParam("eventType");
    f.search = call.request.QueryParam("q");
    const std::string cursor = call.request.QueryParam("cursor");
    if (!cursor.empty()) {
      try {
        f.before_position = std::stoll(cursor);
      } catch (const std::exception&) {
        Throw(400, "invalid_query", "cursor must be the nextCursor of a previous page, got '" + cursor + "'");
      }
    }
    f.limit = limit + 1;
    auto rows = ValueOrThrow(deps.store->ListIntegrationLog(call.org(), f));
    Json items = Json::array();
    Json next = nullptr;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (static_cast<int>(i) == limit) {
        next = std::to_string(rows[i - 1].position);
        break;
      }
      items.push_back(rows[i].ToJson());
    }
    return JsonResponse(200, Json{{"items", std::move(items)}, {"nextCursor", std::move(next)}});
  });

  table.Add("GET", "/v1/integrations/stats", scope, [&deps](Call& call) {
    const TimePoint until = TimeParam(call.request, "until").value_or(UpToNow(deps));
    const TimePoint since = TimeParam(call.request, "since").value_or(until - kDefaultLogWindow);
    Json items = Json::array();
    for (const auto& s : ValueOrThrow(deps.store->ComputeIntegrationStats(call.org(), since, until))) {
      items.push_back(s.ToJson());
    }
    return JsonResponse(200, Json{{"since", FormatIso8601(since)}, {"until", FormatIso8601(until)},
                                  {"items", std::move(items)}});
  });

  table.Add("GET", "/v1/integrations/dashboard", scope, [&deps](Call& call) {
    const TimePoint now = UpToNow(deps);
    const TimePoint day_ago = now - std::chrono::hours(24);
    // Breakers (in the daemon's dispatcher) by adapter.
    std::map<std::string, Json> breakers;
    if (deps.effect_breakers) {
      for (const Json& b : deps.effect_breakers()) {
        Json& list = breakers[b.value("adapter", std::string())];
        if (list.is_null()) list = Json::array();
        list.push_back(b);
      }
    }
    std::map<std::string, Json> adapters;
    std::int64_t failed_calls = 0;
    for (const auto& s : ValueOrThrow(deps.store->ComputeIntegrationStats(call.org(), day_ago, now))) {
      failed_calls += s.calls - s.successes;
      adapters[s.system] = Json{{"name", s.system},
                                {"lastSuccess", s.last_success ? Json(FormatIso8601(*s.last_success)) : Json(nullptr)},
                                {"errorRate", s.calls ? 1.0 - s.success_rate : 0.0},
                                {"calls", s.calls}};
    }
    for (auto& [name, list] : breakers) {
      if (!adapters.count(name)) {
        adapters[name] = Json{{"name", name}, {"lastSuccess", nullptr}, {"errorRate", 0.0}, {"calls", 0}};
      }
    }
    Json health = Json::array();
    for (auto& [name, a] : adapters) {
      Json& list = breakers[name];
      a["endpoints"] = list.is_null() ? Json::array() : list;
      std::string state = "closed";
      for (const Json& b : a["endpoints"]) {
        const std::string s = b.value("state", std::string("closed"));
        if (s == "open" || (s == "half-open" && state == "closed")) state = s;
      }
      a["breaker"] = state;
      health.push_back(a);
    }
    store::IntegrationFilter f;
    f.limit = 20;
    Json recent = Json::array();
    for (const auto& l : ValueOrThrow(deps.store->ListIntegrationLog(call.org(), f))) recent.push_back(l.ToJson());
    const store::EffectCounts counts = ValueOrThrow(deps.store->CountEffects(call.org()));
    return JsonResponse(200, Json{{"adapters", std::move(health)},
                                  {"recent", std::move(recent)},
                                  {"counts", {{"failedCalls24h", failed_calls},
                                              {"pending", counts.pending},
                                              {"pendingRetries", counts.retrying},
                                              {"deadLetters", counts.dead}}}});
  });
}

}  // namespace nurt::api
