#include "nurt/store/records.hpp"

namespace nurt::store {

Json EventEnvelope::ToJson() const {
  return Json{{"id", id},
              {"type", type},
              {"occurredAt", FormatIso8601(occurred_at)},
              {"actor", actor},
              {"entity", {{"type", entity_type}, {"id", entity_id}}},
              {"payload", payload},
              {"schemaVersion", schema_version},
              {"meta",
               {{"orgId", org_id},
                {"sequence", sequence},
                {"traceId", trace_id},
                {"causationId", causation_id},
                {"idempotencyKey", idempotency_key}}}};
}

EventEnvelope EventEnvelope::FromJson(const Json& j) {
  EventEnvelope e;
  e.id = j.value("id", "");
  e.type = j.value("type", "");
  if (auto t = ParseIso8601(j.value("occurredAt", "")); t.ok()) e.occurred_at = *t;
  e.actor = j.value("actor", "");
  if (j.contains("entity")) {
    e.entity_type = j["entity"].value("type", "");
    e.entity_id = j["entity"].value("id", "");
  }
  e.payload = j.value("payload", Json::object());
  e.schema_version = j.value("schemaVersion", 1);
  if (j.contains("meta")) {
    const Json& m = j["meta"];
    e.org_id = m.value("orgId", "");
    e.sequence = m.value("sequence", static_cast<std::int64_t>(0));
    e.trace_id = m.value("traceId", "");
    e.causation_id = m.value("causationId", "");
    e.idempotency_key = m.value("idempotencyKey", "");
  }
  return e;
}

Json TaskRecord::ToJson() const {
  auto time_or_null = [](const std::optional<TimePoint>& t) {
    return t ? Json(FormatIso8601(*t)) : Json(nullptr);
  };
  auto text_or_null = [](const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); };
  Json assignee = Json::object();
  if (!assignee_role.empty()) assignee["role"] = assignee_role;
  if (!assignee_user.empty()) assignee["user"] = assignee_user;
  return Json{{"id", id},
              {"orgId", org_id},
              {"instanceId", instance_id},
              {"machine", machine},
              {"state", state},
              {"title", title},
              {"description", description},
              {"assignee", assignee},
              {"form", form},
              {"checklist", checklist},
              {"decisions", decisions},
              {"dueAt", time_or_null(due_at)},
              {"status", status},
              {"claimedBy", text_or_null(claimed_by)},
              {"claimedAt", time_or_null(claimed_at)},
              {"decision", text_or_null(decision)},
              {"completedBy", text_or_null(completed_by)},
              {"result", result},
              {"openedAt", FormatIso8601(opened_at)},
              {"closedAt", time_or_null(closed_at)},
              {"closeReason", text_or_null(close_reason)},
              {"openedBySequence", opened_by_sequence},
              {"closedBySequence", closed_by_sequence}};
}

Json TimerRecord::ToJson() const {
  return Json{{"id", id},
              {"orgId", org_id},
              {"instanceId", instance_id},
              {"machine", machine},
              {"state", state},
              {"index", index},
              {"kind", kind},
              {"event", event},
              {"description", description},
              {"dueAt", FormatIso8601(due_at)},
              {"armedAt", FormatIso8601(armed_at)},
              {"armedBySequence", armed_by_sequence},
              {"status", status},
              {"finishedAt", finished_at ? Json(FormatIso8601(*finished_at)) : Json(nullptr)},
              {"latenessMs", status == "fired" ? Json(lateness_ms) : Json(nullptr)},
              {"finishedBySequence", finished_by_sequence ? Json(finished_by_sequence) : Json(nullptr)},
              {"detail", detail.empty() ? Json(nullptr) : Json(detail)}};
}

}  // namespace nurt::store
