#include "nurt/store/key_store.hpp"

namespace nurt::store {
namespace {

Json OptionalTime(const std::optional<TimePoint>& t) {
  return t ? Json(FormatIso8601(*t)) : Json();
}

}  // namespace

Json KeyRecord::ToJson() const {
  return Json{{"id", id},
              {"orgId", org_id},
              {"prefix", prefix},
              {"name", name},
              {"scopes", scopes},
              {"role", role.empty() ? Json() : Json(role)},
              {"tier", tier},
              {"status", status},
              {"createdAt", FormatIso8601(created_at)},
              {"createdBy", created_by},
              {"expiresAt", OptionalTime(expires_at)},
              {"lastUsedAt", OptionalTime(last_used_at)}};
}

Json AuditRecord::ToJson() const {
  return Json{{"id", id},         {"orgId", org_id},  {"occurredAt", FormatIso8601(occurred_at)},
              {"actor", actor},   {"action", action}, {"target", target},
              {"reason", reason}, {"detail", detail}};
}

}  // namespace nurt::store
