// /v1/webhooks: an organisation's outbound webhook subscriptions (docs/webhooks.md), scope
// webhooks:manage. The signing secret is in the answers of create and rotate-secret only.

#include "api/api_error.hpp"
#include "api/json_body.hpp"
#include "api/route_table.hpp"

namespace nurt::api {
namespace {

constexpr const char* kScope = "webhooks:manage";

webhooks::WebhookService& Service(const ApiOptions& deps) {
  if (deps.webhooks == nullptr) Throw(503, "unavailable", "outbound webhooks are not enabled in this daemon");
  return *deps.webhooks;
}

// The service names the field of a bad value first ("/url: ..."): answer 400 with that pointer.
[[noreturn]] void ThrowServiceError(const Status& s) {
  const std::string& m = s.message();
  if (s.IsInvalidArgument() && !m.empty() && m[0] == '/') {
    Throw(400, "invalid_field", m, m.substr(0, m.find(": ")));
  }
  ThrowStatus(s);
}

template <typename T>
T OrThrow(Result<T>&& r) {
  if (!r.ok()) ThrowServiceError(r.status());
  return std::move(r).value();
}

webhooks::WebhookFields ReadFields(const Json& body, bool create) {
  BodyReader r(body);
  r.RejectUnknown({"url", "description", "events", "headers", "retryPolicy", "status", "allowHttpLoopback", "reason"});
  webhooks::WebhookFields f;
  if (create) {
    f.url = r.RequiredString("url");
  } else if (r.Has("url")) {
    f.url = r.OptionalString("url");
  }
  if (r.Has("description")) f.description = r.OptionalString("description");
  if (r.Has("events")) f.events = r.OptionalStringArray("events");
  if (r.Has("retryPolicy")) f.retry_policy = r.OptionalString("retryPolicy");
  if (r.Has("status")) f.status = r.OptionalString("status");
  if (r.Has("allowHttpLoopback")) {
    const Json& v = body.at("allowHttpLoopback");
    if (!v.is_boolean()) Throw(400, "invalid_field", "/allowHttpLoopback: expected true or false", "/allowHttpLoopback");
    f.allow_http_loopback = v.get<bool>();
  }
  if (r.Has("headers")) {
    const Json& h = body.at("headers");
    if (!h.is_object()) {
      Throw(400, "invalid_field", "/headers: expected an object of header names to string values", "/headers");
    }
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& [name, value] : h.items()) {
      const std::string pointer = "/headers/" + JsonPointerEscape(name);
      if (!value.is_string()) Throw(400, "invalid_field", pointer + ": expected a string", pointer);
      headers.emplace_back(name, value.get<std::string>());
    }
    f.headers = std::move(headers);
  }
  return f;
}

std::string Reason(const Json& body) { return body.is_object() ? body.value("reason", "") : ""; }

Json WithSecret(const webhooks::CreatedWebhook& c) {
  return Json{{"webhook", c.webhook.ToJson()},
              {"secret", c.secret},
              {"warning", "store this secret now: receivers verify signatures with it and it cannot be shown again"}};
}

}  // namespace

void AddWebhookRoutes(RouteTable& table, const ApiOptions& deps) {
  table.Add("GET", "/v1/webhooks", kScope, [&deps](Call& call) {
    Json items = Json::array();
    for (const auto& w : OrThrow(Service(deps).List(call.org()))) items.push_back(w.ToJson());
    return JsonResponse(200, Json{{"items", std::move(items)}});
  });

  table.Add("POST", "/v1/webhooks", kScope, [&deps](Call& call) {
    Json body = ParseJsonBody(call.request.body);
    webhooks::WebhookFields f = ReadFields(body, /*create=*/true);
    return JsonResponse(201, WithSecret(OrThrow(Service(deps).Create(call.org(), f, call.actor(), Reason(body)))));
  });

  table.Add("GET", "/v1/webhooks/{id}", kScope, [&deps](Call& call) {
    return JsonResponse(200, OrThrow(Service(deps).Get(call.org(), call.Param("id"))).ToJson());
  });

  table.Add("PATCH", "/v1/webhooks/{id}", kScope, [&deps](Call& call) {
    Json body = ParseJsonBody(call.request.body);
    webhooks::WebhookFields f = ReadFields(body, /*create=*/false);
    return JsonResponse(
        200, OrThrow(Service(deps).Update(call.org(), call.Param("id"), f, call.actor(), Reason(body))).ToJson());
  });

  table.Add("DELETE", "/v1/webhooks/{id}", kScope, [&deps](Call& call) {
    Json body = ParseJsonBody(call.request.body, /*empty_is_object=*/true);
    BodyReader(body).RejectUnknown({"reason"});
    const Status s = Service(deps).Delete(call.org(), call.Param("id"), call.actor(), Reason(body));
    if (!s.ok()) ThrowServiceError(s);
    return JsonResponse(200, Json{{"deleted", call.Param("id")}});
  });

  table.Add("POST", "/v1/webhooks/{id}/rotate-secret", kScope, [&deps](Call& call) {
    Json body = ParseJsonBody(call.request.body, /*empty_is_object=*/true);
    BodyReader(body).RejectUnknown({"reason"});
    return JsonResponse(
        200, WithSecret(OrThrow(Service(deps).RotateSecret(call.org(), call.Param("id"), call.actor(), Reason(body)))));
  });

  table.Add("POST", "/v1/webhooks/{id}/test", kScope, [&deps](Call& call) {
    Json body = ParseJsonBody(call.request.body, /*empty_is_object=*/true);
    BodyReader(body).RejectUnknown({});
    store::WebhookDelivery d = OrThrow(Service(deps).SendTest(call.org(), call.Param("id"), call.actor()));
    const store::WebhookAttempt& a = d.attempt_log.back();
    return JsonResponse(200, Json{{"succeeded", d.status == "succeeded"},
                                  {"httpStatus", a.http_status},
                                  {"response", a.response},
                                  {"error", a.error},
                                  {"delivery", d.ToJson()}});
  });

  table.Add("GET", "/v1/webhooks/{id}/deliveries", kScope, [&deps](Call& call) {
    Json items = Json::array();
    for (const auto& d : OrThrow(Service(deps).Deliveries(call.org(), call.Param("id")))) items.push_back(d.ToJson());
    return JsonResponse(200, Json{{"items", std::move(items)}});
  });
}

}  // namespace nurt::api
