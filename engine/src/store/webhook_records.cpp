#include "nurt/store/webhook_records.hpp"

namespace nurt::store {
namespace {

Json TimeOrNull(const std::optional<TimePoint>& t) { return t ? Json(FormatIso8601(*t)) : Json(nullptr); }

}  // namespace

Json WebhookRecord::ToJson() const {
  Json h = Json::object();
  for (const auto& [name, value] : headers) h[name] = value;
  return Json{{"id", id},
              {"url", url},
              {"description", description},
              {"events", events},
              {"headers", std::move(h)},
              {"retryPolicy", retry_policy},
              {"status", status},
              {"allowHttpLoopback", allow_http_loopback},
              {"createdAt", FormatIso8601(created_at)},
              {"createdBy", created_by},
              {"updatedAt", FormatIso8601(updated_at)}};
}

Json WebhookAttempt::ToJson() const {
  return Json{{"number", number},     {"at", FormatIso8601(at)},      {"outcome", outcome},
              {"httpStatus", http_status}, {"durationMs", duration_ms}, {"response", response},
              {"error", error}};
}

Json WebhookDelivery::ToJson() const {
  Json log = Json::array();
  for (const auto& a : attempt_log) log.push_back(a.ToJson());
  return Json{{"id", id},
              {"webhookId", webhook_id},
              {"eventId", event_id},
              {"eventType", event_type},
              {"test", test},
              {"status", status},
              {"attempts", attempts},
              {"nextAttemptAt", TimeOrNull(next_attempt_at)},
              {"createdAt", FormatIso8601(created_at)},
              {"finishedAt", TimeOrNull(finished_at)},
              {"attemptLog", std::move(log)}};
}

}  // namespace nurt::store
