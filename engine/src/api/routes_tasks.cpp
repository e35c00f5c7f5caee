// /v1/tasks: the inbox, claim/release/complete, signed links for external parties (/v1/task-links).

#include "api/api_error.hpp"
#include "api/json_body.hpp"
#include "api/route_table.hpp"
#include "api/views.hpp"
#include "nurt/core/duration.hpp"

namespace nurt::api {
namespace {

constexpr std::chrono::hours kDefaultLinkLifetime{24 * 7};
constexpr std::chrono::hours kMaxLinkLifetime{24 * 90};

// A key with a role works the tasks of that role (and those assigned to its name); an integration key
// without a role may act on any task of its organisation. Admins may act on every task.
void CheckAssignee(const Call& call, const store::TaskRecord& task) {
  const auth::Principal& p = *call.principal;
  if (p.role.empty() || p.role == "admin") return;
  if (!task.assignee_role.empty() && task.assignee_role == p.role) return;
  if (!task.assignee_user.empty() && task.assignee_user == p.key_name) return;
  Throw(403, "permission_denied",
        "task '" + task.id + "' is assigned to " +
            (task.assignee_user.empty() ? "role '" + task.assignee_role + "'" : "user '" + task.assignee_user + "'") +
            "; API key '" + p.key_name + "' has role '" + p.role + "'");
}

engine::CompleteTaskRequest ReadCompletion(const Call& call, const std::string& org, const std::string& task_id,
                                           const std::string& actor) {
  Json body = ParseJsonBody(call.request.body);
  BodyReader r(body);
  r.RejectUnknown({"decision", "data", "checklist"});
  engine::CompleteTaskRequest req;
  req.org_id = org;
  req.task_id = task_id;
  req.decision = r.RequiredString("decision");
  req.data = r.OptionalObject("data");
  req.checklist_done = r.OptionalStringArray("checklist");
  req.actor = actor;
  req.idempotency_key = call.IdempotencyKey();
  req.trace_id = call.request.trace_id;
  return req;
}

std::string StatusFilter(const std::string& status) {
  if (status.empty() || status == "active" || status == "open" || status == "claimed" ||
      status == "completed" || status == "closed") {
    return status;
  }
  Throw(400, "invalid_query",
        "status must be one of open, claimed, completed, closed, active; got '" + status + "'");
}

}  // namespace

void AddTaskRoutes(RouteTable& table, const ApiOptions& deps) {
  table.Add("GET", "/v1/tasks", "read:tasks", [&deps](Call& call) {
    const auth::Principal& p = *call.principal;
    const auto& q = call.request;
    store::TaskFilter filter;
    const std::string status = StatusFilter(q.QueryParam("status"));
    if (status.empty() || status == "active") filter.only_active = true;
    else filter.status = status;
    filter.assignee_role = q.QueryParam("role");
    filter.assignee_user = q.QueryParam("user");
    filter.instance_id = q.QueryParam("instance");
    filter.machine = q.QueryParam("machine");
    filter.after_id = q.QueryParam("cursor");
    const std::string mine = q.QueryParam("mine");
    if (mine != "" && mine != "true" && mine != "false") {
      Throw(400, "invalid_query", "mine must be true or false, got '" + mine + "'");
    }
    // The inbox of a person: a role key sees its role's tasks unless it asks for something else.
    const bool want_mine = mine == "true" || (mine.empty() && !p.role.empty() && p.role != "admin" &&
                                              filter.assignee_role.empty() && filter.assignee_user.empty());
    if (want_mine) {
      if (!p.role.empty()) filter.assignee_role = p.role;
      else filter.assignee_user = p.key_name;
    }
    const int limit = PageLimit(q);
    filter.limit = limit + 1;
    auto rows = ValueOrThrow(deps.engine->ListTasks(call.org(), filter));
    return JsonResponse(200, Page(rows, limit, TaskJson));
  });

  table.Add("GET", "/v1/tasks/{id}", "read:tasks", [&deps](Call& call) {
    return JsonResponse(200, TaskJson(ValueOrThrow(deps.engine->GetTask(call.org(), call.Param("id")))));
  });

  table.Add("POST", "/v1/tasks/{id}/claim", "tasks:complete", [&deps](Call& call) {
    CheckAssignee(call, ValueOrThrow(deps.engine->GetTask(call.org(), call.Param("id"))));
    return JsonResponse(200, TaskJson(ValueOrThrow(
                                 deps.engine->ClaimTask(call.org(), call.Param("id"), call.actor()))));
  });

  table.Add("POST", "/v1/tasks/{id}/release", "tasks:complete", [&deps](Call& call) {
    CheckAssignee(call, ValueOrThrow(deps.engine->GetTask(call.org(), call.Param("id"))));
    return JsonResponse(200, TaskJson(ValueOrThrow(
                                 deps.engine->ReleaseTask(call.org(), call.Param("id"), call.actor()))));
  });

  table.Add("POST", "/v1/tasks/{id}/complete", "tasks:complete", [&deps](Call& call) {
    CheckAssignee(call, ValueOrThrow(deps.engine->GetTask(call.org(), call.Param("id"))));
    auto req = ReadCompletion(call, call.org(), call.Param("id"), call.actor());
    engine::Outcome outcome = ValueOrThrow(deps.engine->CompleteTask(req));
    Committed(deps, outcome);
    return JsonResponse(200, outcome.ToJson());
  });

  table.Add("POST", "/v1/tasks/{id}/links", "tasks:complete", [&deps](Call& call) {
    store::TaskRecord task = ValueOrThrow(deps.engine->GetTask(call.org(), call.Param("id")));
    CheckAssignee(call, task);
    if (task.status != "open" && task.status != "claimed") {
      Throw(409, "task_closed", "task '" + task.id + "' is " + task.status + "; a link to it would be useless");
    }
    Json body = ParseJsonBody(call.request.body, /*empty_is_object=*/true);
    BodyReader r(body);
    r.RejectUnknown({"expiresIn"});
    std::chrono::milliseconds lifetime = kDefaultLinkLifetime;
    if (r.Has("expiresIn")) {
      auto parsed = ParseIsoDuration(r.OptionalString("expiresIn"));
      if (!parsed.ok()) Throw(400, "invalid_field", "/expiresIn: " + parsed.status().message(), "/expiresIn");
      lifetime = *parsed;
      if (lifetime <= std::chrono::milliseconds(0) || lifetime > kMaxLinkLifetime) {
        Throw(400, "invalid_field", "/expiresIn: a link lives from PT1M to P90D", "/expiresIn");
      }
    }
    auth::TaskLinkClaims claims{call.org(), task.id, deps.clock->Now() + lifetime};
    const std::string token = deps.task_links->Sign(claims);
    return JsonResponse(201, Json{{"token", token},
                                  {"path", "/v1/task-links/" + token},
                                  {"expiresAt", FormatIso8601(claims.expires_at)}});
  });

  table.Add("GET", "/v1/task-links/{token}", kPublic, [&deps](Call& call) {
    auto claims = ValueOrThrow(deps.task_links->Verify(call.Param("token"), deps.clock->Now()));
    return JsonResponse(200, TaskJson(ValueOrThrow(deps.engine->GetTask(claims.org_id, claims.task_id))));
  });

  table.Add("POST", "/v1/task-links/{token}/complete", kPublic, [&deps](Call& call) {
    auto claims = ValueOrThrow(deps.task_links->Verify(call.Param("token"), deps.clock->Now()));
    auto req = ReadCompletion(call, claims.org_id, claims.task_id, "link:" + claims.task_id);
    engine::Outcome outcome = ValueOrThrow(deps.engine->CompleteTask(req));
    Committed(deps, outcome);
    // An external party learns only what happened to its task, not the instance's data.
    return JsonResponse(200, Json{{"task", claims.task_id}, {"decision", req.decision},
                                  {"replayed", outcome.replayed}});
  });
}

}  // namespace nurt::api
