// Admin overrides as pure plans (see admin_ops.hpp and docs/dsl.md "Admin overrides").

#include "engine/admin_ops.hpp"

#include <array>
#include <utility>

namespace nurt::engine {
namespace {

constexpr std::array<std::pair<AdminVerb, const char*>, 6> kVerbs = {{
    {AdminVerb::kCancel, "cancel"},
    {AdminVerb::kSuspend, "suspend"},
    {AdminVerb::kResume, "resume"},
    {AdminVerb::kForce, "force"},
    {AdminVerb::kSkip, "skip"},
    {AdminVerb::kRetry, "retry"},
}};

constexpr std::string_view kAdminPrefix = "nurt.admin.";

// A run-status-only override changes no state: one record keeps it visible in the transition
// history.
interp::StepResult Unchanged(const interp::Interpreter& interpreter,
                             const interp::Snapshot& snapshot, const std::string& event,
                             const std::string& verb) {
  interp::StepResult r;
  r.snapshot = snapshot;
  store::TransitionRecord rec;
  rec.event = event;
  rec.from = snapshot.ActiveLeaves(interpreter.definition());
  rec.to = rec.from;
  rec.detail = Json{{"override", verb}};
  r.transitions.push_back(std::move(rec));
  return r;
}

}  // namespace

std::string AdminEventType(AdminVerb verb) {
  for (const auto& [v, name] : kVerbs) {
    if (v == verb) return std::string(kAdminPrefix) + name;
  }
  return std::string(kAdminPrefix) + "unknown";
}

std::optional<AdminVerb> AdminVerbOfEventType(std::string_view type) {
  if (type.substr(0, kAdminPrefix.size()) != kAdminPrefix) return std::nullopt;
  const std::string_view name = type.substr(kAdminPrefix.size());
  for (const auto& [v, verb_name] : kVerbs) {
    if (name == verb_name) return v;
  }
  return std::nullopt;
}

RunCommand AdminRunCommand(AdminVerb verb) {
  switch (verb) {
    case AdminVerb::kCancel:
      return RunCommand::kCancel;
    case AdminVerb::kSuspend:
      return RunCommand::kSuspend;
    case AdminVerb::kResume:
      return RunCommand::kResume;
    case AdminVerb::kForce:
      return RunCommand::kForce;
    case AdminVerb::kSkip:
      return RunCommand::kSkip;
    case AdminVerb::kRetry:
      return RunCommand::kRetry;
  }
  return RunCommand::kCancel;
}

Json FailureRecord(const std::string& event, const Json& data, const std::string& actor,
                   const std::string& error, std::int64_t sequence) {
  return Json{
      {"event", event}, {"data", data}, {"actor", actor}, {"error", error}, {"sequence", sequence}};
}

Result<AdminPlan> PlanAdmin(AdminVerb verb, const interp::Interpreter& interpreter,
                            const interp::Snapshot& snapshot, const Json& request,
                            const interp::Event& event, const interp::StepOptions& options) {
  AdminPlan plan;
  plan.payload = request;
  const std::string verb_name = AdminEventType(verb).substr(kAdminPrefix.size());
  switch (verb) {
    case AdminVerb::kCancel:
    case AdminVerb::kSuspend:
    case AdminVerb::kResume:
      plan.step = Unchanged(interpreter, snapshot, event.name, verb_name);
      plan.payload["state"] = snapshot.ActiveLeaves(interpreter.definition());
      return plan;
    case AdminVerb::kForce: {
      const std::string target = request.value("state", "");
      auto step = interpreter.Force(snapshot, target, event, options);
      if (!step.ok()) return step.status();
      plan.payload["from"] = snapshot.ActiveLeaves(interpreter.definition());
      plan.step = std::move(step).value();
      return plan;
    }
    case AdminVerb::kSkip: {
      auto step = interpreter.Skip(snapshot, event, options);
      if (!step.ok()) return step.status();
      const auto& first = step->transitions.front();
      plan.payload["skipped"] = first.detail.value("skipped", "");
      plan.payload["target"] = first.targets;
      plan.step = std::move(step).value();
      return plan;
    }
    case AdminVerb::kRetry: {
      if (snapshot.failure.is_null()) {
        return Status::FailedPrecondition("the instance records no failed event to retry");
      }
      const Json patch = request.value("patch", Json::object());
      if (!patch.is_object()) {
        return Status::InvalidArgument(
            "the retry patch must be a JSON object of top-level context keys, got " +
            std::string(patch.type_name()));
      }
      interp::Snapshot patched = snapshot;
      for (auto it = patch.begin(); it != patch.end(); ++it) patched.context[it.key()] = it.value();
      const Json& failed = snapshot.failure;
      interp::Event again{failed.value("event", ""), failed.value("data", Json::object()),
                          failed.value("actor", "system")};
      auto step = interpreter.Step(patched, again, options);
      if (!step.ok()) {
        return Status::FailedPrecondition("event " + std::to_string(failed.value("sequence", 0)) +
                                          " ('" + again.name +
                                          "') failed again: " + step.status().message() +
                                          "; nothing was recorded and the instance stays failed: "
                                          "correct the data with a patch, or "
                                          "force, skip or cancel the instance");
      }
      plan.payload["patch"] = patch;
      plan.payload["retried"] =
          Json{{"event", again.name}, {"sequence", failed.value("sequence", 0)}};
      plan.step = std::move(step).value();
      for (auto& t : plan.step.transitions)
        t.detail["retriedSequence"] = failed.value("sequence", 0);
      if (!plan.step.transitions.empty())
        plan.step.transitions.front().detail["override"] = "retry";
      return plan;
    }
  }
  return Status::Internal("unknown admin verb");
}

}  // namespace nurt::engine
