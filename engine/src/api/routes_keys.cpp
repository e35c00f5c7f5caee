// /v1/keys and /v1/audit: an organisation's API keys, managed by its own admins.

#include "api/api_error.hpp"
#include "api/json_body.hpp"
#include "api/route_table.hpp"
#include "nurt/auth/scopes.hpp"

namespace nurt::api {
namespace {

std::optional<TimePoint> ExpiresAt(const BodyReader& r) {
  if (!r.Has("expiresAt")) return std::nullopt;
  const std::string text = r.OptionalString("expiresAt");
  if (text.empty()) return std::nullopt;
  auto t = ParseIso8601(text);
  if (!t.ok()) Throw(400, "invalid_field", "/expiresAt: " + t.status().message(), "/expiresAt");
  return *t;
}

Json IssuedJson(const auth::IssuedKey& issued) {
  return Json{{"key", issued.record.ToJson()},
              {"token", issued.token},
              {"warning", "store this token now: it is not stored and cannot be shown again"}};
}

std::string Reason(const Call& call) {
  Json body = ParseJsonBody(call.request.body, /*empty_is_object=*/true);
  BodyReader r(body);
  r.RejectUnknown({"reason"});
  return r.OptionalString("reason");
}

}  // namespace

void AddKeyRoutes(RouteTable& table, const ApiOptions& deps) {
  table.Add("GET", "/v1/keys", "keys:manage", [&deps](Call& call) {
    Json items = Json::array();
    for (const auto& k : ValueOrThrow(deps.keys->List(call.org()))) items.push_back(k.ToJson());
    return JsonResponse(200, Json{{"items", std::move(items)}});
  });

  table.Add("POST", "/v1/keys", "keys:manage", [&deps](Call& call) {
    Json body = ParseJsonBody(call.request.body);
    BodyReader r(body);
    r.RejectUnknown({"name", "scopes", "role", "tier", "expiresAt", "reason"});
    auth::CreateKeyRequest req;
    req.org_id = call.org();
    req.name = r.RequiredString("name");
    req.scopes = r.OptionalStringArray("scopes");
    req.role = r.OptionalString("role");
    req.tier = r.OptionalString("tier", "standard");
    req.expires_at = ExpiresAt(r);
    req.actor = call.actor();
    req.reason = r.OptionalString("reason");
    // A key can hand out only what it holds itself: otherwise keys:manage would be a path to every scope.
    std::vector<std::string> wanted = req.scopes;
    if (!req.role.empty()) {
      for (auto& s : ValueOrThrow(auth::RoleScopes(req.role))) wanted.push_back(s);
    }
    for (const auto& s : wanted) {
      if (auth::ParseScopes({s}).ok() && !call.principal->Allows(s)) {
        Throw(403, "permission_denied",
              "API key '" + call.principal->key_name + "' cannot grant scope '" + s +
                  "' because it does not hold it itself");
      }
    }
    return JsonResponse(201, IssuedJson(ValueOrThrow(deps.keys->Create(req))));
  });

  table.Add("GET", "/v1/keys/{id}", "keys:manage", [&deps](Call& call) {
    return JsonResponse(200, ValueOrThrow(deps.keys->Get(call.org(), call.Param("id"))).ToJson());
  });

  table.Add("PATCH", "/v1/keys/{id}", "keys:manage", [&deps](Call& call) {
    Json body = ParseJsonBody(call.request.body);
    BodyReader r(body);
    r.RejectUnknown({"expiresAt", "reason"});
    if (!r.Has("expiresAt")) {
      Throw(400, "invalid_field", "/expiresAt: required (an RFC 3339 time, or null for no expiry)",
            "/expiresAt");
    }
    return JsonResponse(200, ValueOrThrow(deps.keys->SetExpiry(call.org(), call.Param("id"), ExpiresAt(r),
                                                               call.actor(), r.OptionalString("reason")))
                                 .ToJson());
  });

  table.Add("POST", "/v1/keys/{id}/suspend", "keys:manage", [&deps](Call& call) {
    return JsonResponse(
        200, ValueOrThrow(deps.keys->Suspend(call.org(), call.Param("id"), call.actor(), Reason(call))).ToJson());
  });
  table.Add("POST", "/v1/keys/{id}/activate", "keys:manage", [&deps](Call& call) {
    return JsonResponse(
        200, ValueOrThrow(deps.keys->Activate(call.org(), call.Param("id"), call.actor(), Reason(call))).ToJson());
  });
  table.Add("POST", "/v1/keys/{id}/revoke", "keys:manage", [&deps](Call& call) {
    return JsonResponse(
        200, ValueOrThrow(deps.keys->Revoke(call.org(), call.Param("id"), call.actor(), Reason(call))).ToJson());
  });
  table.Add("POST", "/v1/keys/{id}/regenerate", "keys:manage", [&deps](Call& call) {
    return JsonResponse(200, IssuedJson(ValueOrThrow(
                                 deps.keys->Regenerate(call.org(), call.Param("id"), call.actor(), Reason(call)))));
  });

  table.Add("GET", "/v1/audit", "read:audit", [&deps](Call& call) {
    const int limit = PageLimit(call.request);
    auto rows = ValueOrThrow(deps.keys->ListAudit(call.org(), limit + 1, call.request.QueryParam("cursor")));
    return JsonResponse(200, Page(rows, limit, [](const store::AuditRecord& a) { return a.ToJson(); }));
  });
}

}  // namespace nurt::api
