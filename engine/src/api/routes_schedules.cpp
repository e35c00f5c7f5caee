// /v1/schedules: the daemon's `kind: Schedule` documents with their state, and each one's runs
// (docs/schedules.md).

#include "api/api_error.hpp"
#include "api/route_table.hpp"
#include "nurt/auth/scopes.hpp"
#include "nurt/core/duration.hpp"

namespace nurt::api {
namespace {

Json ScheduleJson(const schedule::ScheduleView& v) {
  const dsl::ScheduleDefinition& d = *v.definition;
  Json start = nullptr, emit = nullptr;
  if (d.action == dsl::ScheduleDefinition::Action::kStart) {
    start = Json{{"machine", d.machine}, {"data", d.data}};
  } else {
    emit = Json{{"to", d.instance_id}, {"event", d.event}, {"data", d.data}};
  }
  return Json{{"name", d.name},
              {"description", d.description},
              {"schedule", d.expression},
              {"timeZone", d.time_zone},
              {"missed", std::string(dsl::MissedPolicyName(d.missed))},
              {"maxCatchUp", d.max_catch_up},
              {"grace", FormatIsoDuration(d.grace)},
              {"enabled", d.enabled},
              {"start", start},
              {"emit", emit},
              {"lastScheduledFor", v.state ? Json(FormatIso8601(v.state->last_scheduled_for)) : Json(nullptr)},
              {"nextRunAt", TimeOrNull(v.next_run)},
              {"source", d.source_file}};
}

Json RunJson(const store::ScheduleRun& r) {
  return Json{{"scheduledFor", FormatIso8601(r.scheduled_for)},
              {"startedAt", FormatIso8601(r.started_at)},
              {"lateMs", r.lateness_ms},
              {"outcome", r.outcome},
              {"instanceId", r.instance_id.empty() ? Json(nullptr) : Json(r.instance_id)},
              {"eventSequence", r.event_sequence == 0 ? Json(nullptr) : Json(r.event_sequence)},
              {"error", r.error.empty() ? Json(nullptr) : Json(r.error)}};
}

}  // namespace

void AddScheduleRoutes(RouteTable& table, const ApiOptions& deps) {
  const std::string scope(auth::kReadSchedules);
  table.Add("GET", "/v1/schedules", scope, [&deps](Call& call) {
    Json items = Json::array();
    if (deps.schedules != nullptr) {
      for (const auto& v : ValueOrThrow(deps.schedules->List(call.org()))) items.push_back(ScheduleJson(v));
    }
    return JsonResponse(200, Json{{"items", std::move(items)}});
  });

  table.Add("GET", "/v1/schedules/{name}/runs", scope, [&deps](Call& call) {
    const std::string& name = call.Param("name");
    if (deps.schedules == nullptr) Throw(404, "not_found", "schedule '" + name + "' does not exist");
    ValueOrThrow(deps.schedules->Get(call.org(), name));  // 404 for an unknown schedule
    const int limit = PageLimit(call.request);
    std::optional<TimePoint> before;
    const std::string cursor = call.request.QueryParam("cursor");
    if (!cursor.empty()) {
      auto parsed = ParseIso8601(cursor);
      if (!parsed.ok()) {
        Throw(400, "invalid_query",
              "cursor must be the nextCursor of a previous page (an ISO-8601 time), got '" + cursor + "'");
      }
      before = *parsed;
    }
    auto rows = ValueOrThrow(deps.store->ListScheduleRuns(call.org(), name, before, limit + 1));
    Json items = Json::array();
    Json next = nullptr;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (static_cast<int>(i) == limit) {
        next = FormatIso8601(rows[i - 1].scheduled_for);
        break;
      }
      items.push_back(RunJson(rows[i]));
    }
    return JsonResponse(200, Json{{"items", std::move(items)}, {"nextCursor", std::move(next)}});
  });
}

}  // namespace nurt::api
