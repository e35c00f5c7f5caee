#include "api/views.hpp"

#include "api/route_table.hpp"

namespace nurt::api {

Json InstanceSummaryJson(const store::InstanceRecord& r) {
  return Json{{"id", r.id},
              {"machine", r.machine},
              {"machineVersion", r.machine_version},
              {"runStatus", r.run_status},
              {"state", r.state},
              {"version", r.version},
              {"createdAt", FormatIso8601(r.created_at)},
              {"updatedAt", FormatIso8601(r.updated_at)}};
}

Json InstanceJson(const engine::InstanceView& view) {
  Json out = InstanceSummaryJson(view.record);
  const Json& snap = view.record.snapshot;
  out["context"] = snap.is_object() && snap.contains("context") ? snap["context"] : Json::object();
  out["output"] = snap.is_object() && snap.contains("output") ? snap["output"] : Json();
  out["acceptedEvents"] = view.accepted_events;
  return out;
}

Json TransitionJson(const store::TransitionRecord& t) {
  return Json{{"eventSequence", t.event_sequence}, {"step", t.step},   {"event", t.event},
              {"from", t.from},                    {"to", t.to},       {"source", t.source},
              {"targets", t.targets},              {"detail", t.detail}};
}

Json TaskJson(const store::TaskRecord& t) {
  return Json{{"id", t.id},
              {"instanceId", t.instance_id},
              {"machine", t.machine},
              {"state", t.state},
              {"title", t.title},
              {"description", t.description},
              {"assigneeRole", t.assignee_role},
              {"assigneeUser", t.assignee_user},
              {"form", t.form},
              {"checklist", t.checklist},
              {"decisions", t.decisions},
              {"dueAt", TimeOrNull(t.due_at)},
              {"status", t.status},
              {"claimedBy", t.claimed_by},
              {"decision", t.decision},
              {"completedBy", t.completed_by},
              {"result", t.result},
              {"openedAt", FormatIso8601(t.opened_at)},
              {"closedAt", TimeOrNull(t.closed_at)},
              {"closeReason", t.close_reason}};
}

Json DefinitionSummaryJson(const store::DefinitionRecord& d) {
  return Json{{"name", d.name},
              {"version", d.version},
              {"sourceFile", d.source_file},
              {"contentHash", d.content_hash},
              {"createdAt", FormatIso8601(d.created_at)}};
}

}  // namespace nurt::api
