// /v1/instances: start, list, show, history, events, and the admin overrides.

#include "api/api_error.hpp"
#include "api/json_body.hpp"
#include "api/route_table.hpp"
#include "api/views.hpp"

namespace nurt::api {
namespace {

// A refused event answers 409 with what the instance accepts now, so a client can show the user the
// actions that are possible instead of a bare "conflict".
[[noreturn]] void ThrowEventRefused(const ApiOptions& deps, const Call& call, const std::string& id,
                                    const Status& status) {
  if (!status.IsFailedPrecondition()) ThrowStatus(status);
  auto view = deps.engine->Show(call.org(), id);
  if (!view.ok()) ThrowStatus(status);
  if (view->record.run_status != "active") {
    Throw(409, "instance_not_active", status.message(), "",
          Json{{"runStatus", view->record.run_status}});
  }
  Throw(409, "event_not_accepted", status.message(), "/event",
        Json{{"state", view->record.state}, {"acceptedEvents", view->accepted_events}});
}

// `path=value`: the value is JSON when it parses as a scalar (12, true, "x"), else a plain string.
std::pair<std::string, Json> ParseWhere(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    Throw(400, "invalid_query",
          "where must be 'context.path=value' (e.g. where=customer.nip=5260250274), got '" + text + "'");
  }
  std::string path = text.substr(0, eq);
  if (path.rfind("context.", 0) == 0) path = path.substr(8);
  const std::string raw = text.substr(eq + 1);
  Json value = raw;
  try {
    Json parsed = Json::parse(raw);
    if (parsed.is_primitive()) value = parsed;
  } catch (const std::exception&) {
  }
  return {path, value};
}

server::HttpResponse Override(const ApiOptions& deps, Call& call, const std::string& verb) {
  Json body = ParseJsonBody(call.request.body);
  BodyReader r(body);
  if (verb == "force") r.RejectUnknown({"reason", "state"});
  else if (verb == "retry") r.RejectUnknown({"reason", "contextPatch"});
  else r.RejectUnknown({"reason"});
  engine::AdminRequest req;
  req.org_id = call.org();
  req.instance_id = call.Param("id");
  req.actor = call.actor();
  req.reason = r.RequiredString("reason");
  req.idempotency_key = call.IdempotencyKey();
  req.trace_id = call.request.trace_id;
  Result<engine::Outcome> outcome = Status::Internal("unknown override " + verb);
  if (verb == "cancel") outcome = deps.engine->Cancel(req);
  else if (verb == "suspend") outcome = deps.engine->Suspend(req);
  else if (verb == "resume") outcome = deps.engine->Resume(req);
  else if (verb == "skip") outcome = deps.engine->Skip(req);
  else if (verb == "force") outcome = deps.engine->ForceState(req, r.RequiredString("state"));
  else if (verb == "retry") outcome = deps.engine->Retry(req, r.OptionalObject("contextPatch"));
  if (!outcome.ok()) ThrowStatus(outcome.status());
  Committed(deps, *outcome);
  return JsonResponse(200, outcome->ToJson());
}

}  // namespace

void AddInstanceRoutes(RouteTable& table, const ApiOptions& deps) {
  table.Add("POST", "/v1/instances", "write:instances", [&deps](Call& call) {
    Json body = ParseJsonBody(call.request.body);
    BodyReader r(body);
    r.RejectUnknown({"machine", "version", "id", "data"});
    engine::StartRequest req;
    req.org_id = call.org();
    req.machine = r.RequiredString("machine");
    req.version = r.OptionalInt("version").value_or(0);
    req.instance_id = r.OptionalString("id");
    req.data = r.OptionalObject("data");
    req.idempotency_key = call.IdempotencyKey();
    req.actor = call.actor();
    req.trace_id = call.request.trace_id;
    engine::Outcome outcome = ValueOrThrow(deps.engine->Start(req));
    Committed(deps, outcome);
    return JsonResponse(outcome.replayed ? 200 : 201, outcome.ToJson());
  });

  table.Add("GET", "/v1/instances", "read:instances", [&deps](Call& call) {
    store::InstanceFilter filter;
    filter.machine = call.request.QueryParam("machine");
    filter.state = call.request.QueryParam("state");
    filter.run_status = call.request.QueryParam("status");
    filter.after_id = call.request.QueryParam("cursor");
    for (const std::string& w : call.request.QueryParams("where")) {
      filter.context_equals.push_back(ParseWhere(w));
    }
    const int limit = PageLimit(call.request);
    filter.limit = limit + 1;  // one more tells whether there is a next page
    auto rows = ValueOrThrow(deps.store->ListInstances(call.org(), filter));
    return JsonResponse(200, Page(rows, limit, InstanceSummaryJson));
  });

  table.Add("GET", "/v1/instances/{id}", "read:instances", [&deps](Call& call) {
    engine::InstanceView view = ValueOrThrow(deps.engine->Show(call.org(), call.Param("id")));
    Json out = InstanceJson(view);
    store::TaskFilter tf;
    tf.instance_id = view.record.id;
    tf.only_active = true;
    Json tasks = Json::array();
    for (const auto& t : ValueOrThrow(deps.engine->ListTasks(call.org(), tf))) tasks.push_back(TaskJson(t));
    out["tasks"] = std::move(tasks);
    return JsonResponse(200, out);
  });

  table.Add("GET", "/v1/instances/{id}/history", "read:instances", [&deps](Call& call) {
    const std::string& id = call.Param("id");
    // The instance lookup makes an unknown (or another org's) id a 404 rather than an empty history.
    ValueOrThrow(deps.store->GetInstance(call.org(), id));
    Json events = Json::array();
    for (const auto& e : ValueOrThrow(deps.store->ListEvents(call.org(), id))) events.push_back(e.ToJson());
    Json transitions = Json::array();
    for (const auto& t : ValueOrThrow(deps.store->ListTransitions(call.org(), id))) {
      transitions.push_back(TransitionJson(t));
    }
    return JsonResponse(200, Json{{"events", std::move(events)}, {"transitions", std::move(transitions)}});
  });

  table.Add("GET", "/v1/instances/{id}/timers", "read:instances", [&deps](Call& call) {
    Json timers = Json::array();
    for (const auto& t : ValueOrThrow(deps.engine->ListTimers(call.org(), call.Param("id")))) {
      timers.push_back(t.ToJson());
    }
    return JsonResponse(200, Json{{"items", std::move(timers)}});
  });

  table.Add("POST", "/v1/instances/{id}/events", "write:events", [&deps](Call& call) {
    Json body = ParseJsonBody(call.request.body);
    BodyReader r(body);
    r.RejectUnknown({"event", "data"});
    engine::EventRequest req;
    req.org_id = call.org();
    req.instance_id = call.Param("id");
    req.event = r.RequiredString("event");
    req.data = r.OptionalObject("data");
    req.idempotency_key = call.IdempotencyKey();
    req.actor = call.actor();
    req.trace_id = call.request.trace_id;
    auto outcome = deps.engine->Accept(req);
    if (!outcome.ok()) ThrowEventRefused(deps, call, req.instance_id, outcome.status());
    Committed(deps, *outcome);
    return JsonResponse(200, outcome->ToJson());
  });

  for (const char* verb : {"cancel", "suspend", "resume", "skip", "force", "retry"}) {
    const std::string v = verb;
    table.Add("POST", "/v1/instances/{id}/" + v, "admin:override",
              [&deps, v](Call& call) { return Override(deps, call, v); });
  }
}

}  // namespace nurt::api
