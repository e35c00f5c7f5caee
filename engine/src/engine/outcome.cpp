#include "nurt/engine/engine.hpp"

namespace nurt::engine {

namespace {
Json TransitionToJson(const store::TransitionRecord& t) {
  return Json{{"eventSequence", t.event_sequence}, {"step", t.step},   {"event", t.event},
              {"from", t.from},                    {"to", t.to},       {"source", t.source},
              {"targets", t.targets},              {"detail", t.detail}};
}
store::TransitionRecord TransitionFromJson(const Json& j) {
  store::TransitionRecord t;
  t.event_sequence = j.value("eventSequence", static_cast<std::int64_t>(0));
  t.step = j.value("step", 0);
  t.event = j.value("event", "");
  t.from = j.value("from", std::vector<std::string>{});
  t.to = j.value("to", std::vector<std::string>{});
  t.source = j.value("source", "");
  t.targets = j.value("targets", std::vector<std::string>{});
  t.detail = j.value("detail", Json::object());
  return t;
}
}  // namespace

Json Outcome::ToJson() const {
  Json transitions_json = Json::array();
  for (const auto& t : transitions) transitions_json.push_back(TransitionToJson(t));
  return Json{{"instanceId", instance_id},
              {"machine", machine},
              {"machineVersion", machine_version},
              {"version", version},
              {"eventSequence", event_sequence},
              {"eventId", event_id},
              {"runStatus", run_status},
              {"state", state},
              {"context", context},
              {"output", output},
              {"transitions", std::move(transitions_json)},
              {"acceptedEvents", accepted_events},
              {"replayed", replayed}};
}

Outcome Outcome::FromJson(const Json& j) {
  Outcome o;
  o.instance_id = j.value("instanceId", "");
  o.machine = j.value("machine", "");
  o.machine_version = j.value("machineVersion", static_cast<std::int64_t>(0));
  o.version = j.value("version", static_cast<std::int64_t>(0));
  o.event_sequence = j.value("eventSequence", static_cast<std::int64_t>(0));
  o.event_id = j.value("eventId", "");
  o.run_status = j.value("runStatus", "");
  o.state = j.value("state", std::vector<std::string>{});
  o.context = j.value("context", Json::object());
  o.output = j.contains("output") ? j["output"] : Json();
  if (j.contains("transitions")) {
    for (const auto& t : j["transitions"]) o.transitions.push_back(TransitionFromJson(t));
  }
  o.accepted_events = j.value("acceptedEvents", std::vector<std::string>{});
  o.replayed = j.value("replayed", false);
  return o;
}

}  // namespace nurt::engine
