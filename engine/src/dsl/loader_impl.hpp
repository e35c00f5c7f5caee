#pragma once
// The DSL loader's structural pass as a class, shared by loader.cpp (machine, states, transitions, actions)
// and loader_time.cpp (timers, SLAs, notifications). Private to the DSL module.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "dsl/document_reader.hpp"
#include "dsl/model.hpp"
#include "dsl/yaml_walker.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/lua/runtime.hpp"

namespace nurt::dsl::internal {


inline const std::vector<std::string> kTopKeys = {"apiVersion", "kind",    "name",   "version",
                                           "description", "context", "initial", "states",
                                           "data",        "errors",  "init"};
inline const std::vector<std::string> kContextKeys = {"initial", "schema"};
inline const std::vector<std::string> kStateKeys = {"type",  "description", "initial", "states", "entry",
                                             "exit",  "on",          "always",  "output",
                                             "task",  "after",       "at",      "sla",
                                             "history", "target", "actions", "transitions"};
inline const std::vector<std::string> kTaskKeys = {"title",     "description", "assignee", "form",
                                            "checklist", "due",         "decisions", "sla"};
inline const std::vector<std::string> kAssigneeKeys = {"role", "user"};
inline const std::vector<std::string> kFieldKeys = {"name", "type", "required", "label", "options"};
inline const std::vector<std::string> kStateTypes = {"atomic", "compound", "parallel", "final", "history"};
inline const std::vector<std::string> kTransitionKeys = {"target", "guard", "actions", "type"};
inline const std::vector<std::string> kTransitionTypes = {"external", "internal"};
inline const std::vector<std::string> kActionKeys = {"assign", "emit",   "spawn", "lua", "script",  "notify",
                                                     "call",   "send",   "cancel", "log", "if", "foreach",
                                                     "block"};
inline const std::vector<std::string> kCallKeys = {"adapter", "step", "input", "retry"};
inline const std::vector<std::string> kSendKeys = {"event", "event_expr", "data", "to", "delay", "id",
                                                  "id_location"};
inline const std::vector<std::string> kIfKeys = {"cond", "then", "else_if", "else"};
inline const std::vector<std::string> kForeachKeys = {"array", "item", "index", "do"};
inline const std::vector<std::string> kEmitKeys = {"event", "data", "to"};
inline const std::vector<std::string> kSpawnKeys = {"machine", "data", "key", "id"};

inline const std::regex& MachineNamePattern() {
  static const std::regex re("[a-z][a-z0-9_.-]*");
  return re;
}
inline const std::regex& StateIdPattern() {
  static const std::regex re("[A-Za-z_][A-Za-z0-9_.-]*");
  return re;
}
// An event a transition listens for: dot-separated tokens, or "*".
inline const std::regex& EventDescriptorPattern() {
  static const std::regex re("\\*|[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");
  return re;
}
// An event that is raised: dot-separated tokens.
inline const std::regex& EventNamePattern() {
  static const std::regex re("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");
  return re;
}
// A task form field or decision name.
inline const std::regex& IdentifierPattern() {
  static const std::regex re("[A-Za-z_][A-Za-z0-9_]*");
  return re;
}
// A {{placeholder}} in a template or a schedule's data: the path inside, without the braces and spaces.
inline const std::regex& PlaceholderPattern() {
  static const std::regex re("\\{\\{\\s*([^{}]*?)\\s*\\}\\}");
  return re;
}
inline const std::regex& AssignPathPattern() {
  static const std::regex re("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");
  return re;
}
// emit('name' …) / emit("name" …) in Lua code, for unhandled-event.
inline const std::regex& LuaEmitCall() {
  static const std::regex re("(^|[^.:A-Za-z0-9_])emit\\s*\\(\\s*(['\"])([^'\"\\\\\\n]*)\\2");
  return re;
}

inline std::string Quote(const std::string& s) { return "'" + s + "'"; }

inline std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += items[i];
  }
  return out;
}

inline std::string Shorten(const std::string& s, std::size_t max = 40) {
  std::string one_line;
  for (char c : s) one_line += (c == '\n' ? ' ' : c);
  while (!one_line.empty() && one_line.back() == ' ') one_line.pop_back();
  if (one_line.size() <= max) return one_line;
  return one_line.substr(0, max) + "…";
}

class Loader : public DocumentReader {
 public:
  Loader(const std::string& text, const std::string& file, const LoadOptions& options)
      : DocumentReader(text, file), text_(text), file_(file), options_(options) {}

  LoadResult Run();

 private:
  void ParseTop(const YAML::Node& root);
  void ParseContext(const Entry& e);
  void ParseChildStates(const Entry& e, StateIndex parent);
  void ParseState(const Entry& e, StateIndex parent, std::int32_t depth);
  void ParseOn(const Entry& e, StateIndex s);
  void ParseTask(const Entry& e, StateIndex s);
  void ParseTaskDecisions(const Entry& e, StateIndex s, const std::string& where, TaskSpec* task);
  void ParseTransitions(const Entry& e, StateIndex s, const std::string& event);
  // `skip_keys`: keys of `map` that the caller reads itself (a timer's `delay`, `business`, …).
  void ParseTransitionMap(const YAML::Node& map, StateIndex s, const std::string& event,
                          const SourceLocation& at, const std::string& where,
                          const std::vector<std::string>& skip_keys = {});
  // loader_time.cpp: `after:`, `at:`, `sla:` and the `notify` action.
  void ParseTimers(const Entry& e, StateIndex s);
  void ParseTimer(const YAML::Node& item, StateIndex s, bool is_at, const std::string& where);
  void ParseSla(const Entry& e, StateIndex s, const std::string& where);
  void ParseNotify(const Entry& e, ActionSpec* action);
  void ParseCall(const Entry& e, ActionSpec* action);  // loader_call.cpp
  std::optional<DelaySpec> ParseDelay(const YAML::Node& node, const std::string& what, bool business,
                                      bool allow_negative);
  void AddShorthand(const YAML::Node& target, StateIndex s, const std::string& event,
                    const SourceLocation& at);
  std::vector<ActionSpec> ParseActions(const Entry& e, const std::string& where);
  void ParseAction(const YAML::Node& item, const std::string& where, std::vector<ActionSpec>* out);
  void ParseAssign(const Entry& e, ActionSpec* action);
  void ParseEmit(const Entry& e, ActionSpec* action);
  void ParseSpawn(const Entry& e, ActionSpec* action);
  void ParseScript(const Entry& e, ActionSpec* action);
  // loader_scxml.cpp: the actions SCXML's executable content needs (send, cancel, log, if, foreach),
  // the machine's `data:` and `errors:`, and history states.
  void ParseSend(const Entry& e, ActionSpec* action);
  void ParseCancel(const Entry& e, ActionSpec* action);
  void ParseLog(const Entry& e, ActionSpec* action);
  void ParseIf(const Entry& e, ActionSpec* action);
  void ParseForeach(const Entry& e, ActionSpec* action);
  void ParseMachineData(const Entry& e);
  void ParseErrors(const Entry& e);
  void ParseHistoryKeys(const YAML::Node& map, StateIndex s);
  void ParseTransitionList(const Entry& e, StateIndex s);
  // bad-value unless `event` is an event descriptor (dot-separated tokens or "*").
  void CheckEventDescriptor(const std::string& event, const SourceLocation& at);
  bool ReadPath(const Entry& e, const std::string& what, std::string* out);
  void ParseData(const Entry& e, const std::string& what, std::optional<ValueSpec>* value,
                 std::vector<std::pair<std::string, ValueSpec>>* fields, bool* is_map);
  ValueSpec ParseValue(const YAML::Node& node, const std::string& what);
  LuaCode MakeLua(const YAML::Node& node, lua::SyntaxKind kind, const std::string& what, bool guard);
  void CheckLua(const LuaCode& code, bool block, lua::SyntaxKind kind, const std::string& what, bool guard);
  void ScanEmits(const LuaCode& code, bool block);
  std::string ActionsDir();

  StateSpec& state(StateIndex i) { return model_.definition.states[static_cast<std::size_t>(i)]; }
  std::string StateWhere(StateIndex s) { return "state " + Quote(state(s).id); }

  std::string text_;
  std::string file_;
  const LoadOptions& options_;
  Model model_;
  std::optional<std::string> actions_dir_;
};

}  // namespace nurt::dsl::internal
