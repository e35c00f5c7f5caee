#include "nurt/store/effect_records.hpp"

namespace nurt::store {

Json EffectRecord::ToJson() const {
  // The outbox says "failed" for a dead letter; the API says what it is.
  const std::string status = item.status == "failed" ? "dead" : item.status;
  return Json{{"id", item.id},
              {"orgId", item.org_id},
              {"instanceId", item.instance_id},
              {"eventSequence", item.event_sequence},
              {"adapter", item.kind},
              {"payload", item.payload},
              {"idempotencyKey", item.idempotency_key},
              {"createdAt", FormatIso8601(item.created_at)},
              {"status", status},
              {"result", item.result},
              {"attempts", attempts},
              {"nextAttemptAt", item.status == "pending" ? Json(FormatIso8601(next_attempt_at)) : Json(nullptr)},
              {"lastError", last_error.empty() ? Json(nullptr) : Json(last_error)},
              {"updatedAt", FormatIso8601(updated_at)}};
}

Json IntegrationRecord::ToJson() const {
  return Json{{"position", position},
              {"occurredAt", FormatIso8601(occurred_at)},
              {"system", system},
              {"direction", direction},
              {"status", status},
              {"httpStatus", http_status ? Json(http_status) : Json(nullptr)},
              {"durationMs", duration_ms},
              {"request", request},
              {"response", response},
              {"attempt", attempt},
              {"effectId", effect_id.empty() ? Json(nullptr) : Json(effect_id)},
              {"instanceId", instance_id.empty() ? Json(nullptr) : Json(instance_id)},
              {"eventType", event_type.empty() ? Json(nullptr) : Json(event_type)},
              {"error", error.empty() ? Json(nullptr) : Json(error)}};
}

Json IntegrationStats::ToJson() const {
  return Json{{"system", system},
              {"calls", calls},
              {"successes", successes},
              {"successRate", success_rate},
              {"avgDurationMs", avg_duration_ms},
              {"p95DurationMs", p95_duration_ms},
              {"lastSuccess", last_success ? Json(FormatIso8601(*last_success)) : Json(nullptr)}};
}

}  // namespace nurt::store
