// The DSL v1 loader: YAML text -> Definition + every diagnostic (docs/dsl.md).
//
// One structural pass over the YAML in document order (keys, types, allowed values, Lua syntax, scripts)
// builds the flat Definition and records references between states; validator.cpp resolves them and
// runs the machine-wide checks; context_schema.cpp checks `context`. Nothing stops at the first problem.

#include "nurt/dsl/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "dsl/file_io.hpp"
#include "dsl/loader_impl.hpp"
#include "dsl/model.hpp"
#include "dsl/yaml_walker.hpp"
#include "nurt/core/duration.hpp"
#include "nurt/core/suggest.hpp"
#include "nurt/lua/runtime.hpp"

namespace nurt::dsl {

namespace internal {

// ---------------------------------------------------------------------------------------------------
// Generic helpers


// ---------------------------------------------------------------------------------------------------
// Lua snippets

LuaCode Loader::MakeLua(const YAML::Node& node, lua::SyntaxKind kind, const std::string& what, bool guard) {
  bool block = false;
  LuaCode code;
  code.source = node.Scalar();
  code.location = TextStart(source_, node, &block);
  code.chunk_name = "=" + file_;
  CheckLua(code, block, kind, what, guard);
  if (kind == lua::SyntaxKind::kStatements) ScanEmits(code, block);
  return code;
}

void Loader::CheckLua(const LuaCode& code, bool block, lua::SyntaxKind kind, const std::string& what,
                      bool guard) {
  const std::string& file = code.location.file;
  const lua::Chunk chunk{code.source, file, code.location.line};
  const auto error = lua::CheckSyntax(chunk, kind);
  if (!error) return;
  if (kind == lua::SyntaxKind::kExpression &&
      !lua::CheckSyntax(chunk, lua::SyntaxKind::kStatements).has_value()) {
    if (guard) {
      diag_.Error(code.location, "guard-not-expression",
                  "guard \"" + Shorten(code.source) +
                      "\" is a statement, not an expression: a guard is a condition that is true or false, "
                      "e.g. \"ctx.total > 100\" (compare with '==', not '='; no 'return')");
    } else {
      diag_.Error(code.location, "lua-syntax",
                  what + " must be a Lua expression, but \"" + Shorten(code.source) +
                      "\" is a statement; write the value itself (no '=' or 'return'), or use a "
                      "'lua:' action for statements");
    }
    return;
  }
  int last_line = code.location.line;
  for (std::size_t i = 0; i + 1 < code.source.size(); ++i) {
    if (code.source[i] == '\n') ++last_line;
  }
  int line = error->line == 0 ? code.location.line : error->line;
  line = std::clamp(line, code.location.line, last_line);
  const int column = (line == code.location.line || block) ? code.location.column : 1;
  std::string message = "Lua syntax error in " + what + ": " + error->message;
  if (kind == lua::SyntaxKind::kExpression && !guard) {
    message += " (every string here is a Lua expression: write text with Lua quotes inside, "
               "e.g. \"'won'\")";
  }
  diag_.Error(SourceLocation{file, line, column}, "lua-syntax", message);
}

void Loader::ScanEmits(const LuaCode& code, bool block) {
  const std::string& src = code.source;
  for (auto it = std::sregex_iterator(src.begin(), src.end(), LuaEmitCall()); it != std::sregex_iterator();
       ++it) {
    const auto& m = *it;
    const std::size_t offset = static_cast<std::size_t>(m.position(3)) - 1;  // the opening quote
    int line = code.location.line;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < offset; ++i) {
      if (src[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    const int base = (line == code.location.line || block) ? code.location.column : 1;
    model_.emits.push_back(
        EmitRef{m.str(3), SourceLocation{code.location.file, line, base + static_cast<int>(offset - line_start)}});
  }
}

// ---------------------------------------------------------------------------------------------------
// Top level

void Loader::ParseTop(const YAML::Node& root) {
  Definition& d = model_.definition;
  StateSpec root_state;
  root_state.kind = StateKind::kCompound;
  root_state.location = root.IsDefined() && !root.IsNull() ? At(root) : source_.At(1, 1);
  d.states.push_back(root_state);

  if (!root.IsMap()) {
    if (!root.IsDefined() || root.IsNull()) {
      diag_.Error(source_.At(1, 1), "wrong-type",
                  "the file is empty; a workflow is a map with apiVersion: nurt/v1, kind: Machine, name, "
                  "version and states");
    } else {
      WrongType(At(root), "a workflow file", "a map (apiVersion, kind, name, version, states, …)", root);
    }
    return;
  }

  std::set<std::string> present;
  for (const Entry& e : Entries(root)) {
    present.insert(e.key);
    if (e.key == "apiVersion") {
      if (e.value.IsMap() || e.value.IsSequence()) {
        WrongType(ValueAt(e), "apiVersion", "text (nurt/v1)", e.value);
      } else if (!IsText(e.value) || e.value.Scalar() != "nurt/v1") {
        diag_.Error(ValueAt(e), "bad-value",
                    "apiVersion " + Quote(e.value.Scalar()) + " is not supported; write apiVersion: nurt/v1");
      } else {
        d.api_version = e.value.Scalar();
      }
    } else if (e.key == "kind") {
      if (e.value.IsMap() || e.value.IsSequence()) {
        WrongType(ValueAt(e), "kind", "text (Machine)", e.value);
      } else if (IsText(e.value) && e.value.Scalar() == "Rules") {
        diag_.Error(ValueAt(e), "bad-value",
                    "kind 'Rules' is a rules document, not a machine: load it with the rules loader "
                    "(nurt validate and the workflow folders do that; docs/rules.md)");
      } else if (IsText(e.value) && e.value.Scalar() == "Schedule") {
        diag_.Error(ValueAt(e), "bad-value",
                    "a kind: Schedule file is not a machine; check it with `nurt validate` (which reads "
                    "schedules) or dsl::LoadScheduleFile");
      } else if (!IsText(e.value) || e.value.Scalar() != "Machine") {
        diag_.Error(ValueAt(e), "bad-value",
                    "kind " + Quote(e.value.Scalar()) + " is not supported" +
                        DidYouMean(e.value.Scalar(), {"Machine"}) + "; write kind: Machine");
      }
    } else if (e.key == "name") {
      std::string name;
      if (ReadText(e, "name", &name)) {
        if (!std::regex_match(name, MachineNamePattern())) {
          diag_.Error(ValueAt(e), "bad-value",
                      "machine name " + Quote(name) +
                          " must start with a lower-case letter and use only a-z, 0-9, '_', '.' and '-'");
        }
        d.name = name;
      }
    } else if (e.key == "version") {
      const Json v = e.value.IsScalar() ? ToJson(e.value) : Json();
      const bool integral = v.is_number_integer() ||
                            (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<std::int64_t>(v.get<double>())));
      if (!integral) {
        WrongType(ValueAt(e), "version", "a whole number (1, 2, …)", e.value);
      } else {
        const std::int64_t version =
            v.is_number_integer() ? v.get<std::int64_t>() : static_cast<std::int64_t>(v.get<double>());
        if (version < 1) {
          diag_.Error(ValueAt(e), "bad-value",
                      "version must be a positive whole number (1, 2, …), not " + std::to_string(version));
        } else {
          d.version = version;
        }
      }
    } else if (e.key == "description") {
      ReadText(e, "description", &d.description);
    } else if (e.key == "context") {
      ParseContext(e);
    } else if (e.key == "initial") {
      std::string id;
      if (ReadText(e, "the machine's initial", &id)) {
        model_.initials.push_back(InitialRef{kRootState, id, ValueAt(e)});
      }
    } else if (e.key == "states") {
      ParseChildStates(e, kRootState);
    } else if (e.key == "data") {
      ParseMachineData(e);
    } else if (e.key == "errors") {
      ParseErrors(e);
    } else if (e.key == "init") {
      d.init = ParseActions(e, "'init' of the machine");
    } else {
      UnknownKey(e, "the machine", kTopKeys);
    }
  }
  for (const char* required : {"apiVersion", "kind", "name", "version", "states"}) {
    if (present.count(required)) continue;
    std::string what;
    if (std::string(required) == "apiVersion") what = "add apiVersion: nurt/v1";
    if (std::string(required) == "kind") what = "add kind: Machine";
    if (std::string(required) == "name") what = "add name: <machine name>, e.g. name: invoice";
    if (std::string(required) == "version") what = "add version: 1";
    if (std::string(required) == "states") what = "add states: with at least one state";
    diag_.Error(d.states[0].location, "missing-key",
                std::string("the machine has no '") + required + "' (required); " + what);
  }
  if (!present.count("context")) model_.context_initial_at = d.states[0].location;
}

void Loader::ParseContext(const Entry& e) {
  model_.context_initial_at = e.key_at;
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), "context", "a map with 'initial' and/or 'schema'", e.value);
    return;
  }
  for (const Entry& c : Entries(e.value)) {
    if (c.key == "initial") {
      model_.context_initial_at = c.key_at;
      if (!c.value.IsMap()) {
        WrongType(ValueAt(c), "context.initial", "a map of field → initial value", c.value);
        continue;
      }
      model_.context_initial = c.value;
      model_.definition.initial_context = ToJson(c.value);
    } else if (c.key == "schema") {
      model_.context_schema_at = c.key_at;
      if (!c.value.IsMap()) {
        WrongType(ValueAt(c), "context.schema", "a JSON Schema written as a map (type: object, …)", c.value);
        continue;
      }
      model_.context_schema = c.value;
      model_.definition.context_schema = ToJson(c.value);
    } else {
      UnknownKey(c, "context", kContextKeys);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// States

void Loader::ParseChildStates(const Entry& e, StateIndex parent) {
  const std::string owner = parent == kRootState ? "the machine" : StateWhere(parent);
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), "'states' of " + owner, "a map of state id → state", e.value);
    return;
  }
  const std::vector<Entry> children = Entries(e.value);
  if (children.empty()) {
    diag_.Error(ValueAt(e), "bad-value", "'states' of " + owner + " is empty; give it at least one state");
    return;
  }
  const std::int32_t depth = state(parent).depth + 1;
  for (const Entry& child : children) ParseState(child, parent, depth);
}

void Loader::ParseState(const Entry& e, StateIndex parent, std::int32_t depth) {
  const auto index = static_cast<StateIndex>(model_.definition.states.size());
  {
    StateSpec spec;
    spec.id = e.key;
    spec.parent = parent;
    spec.depth = depth;
    spec.location = e.key_at;
    model_.definition.states.push_back(std::move(spec));
    state(parent).children.push_back(index);
  }
  const std::string where = StateWhere(index);
  if (!std::regex_match(e.key, StateIdPattern())) {
    diag_.Error(e.key_at, "bad-value",
                "state id " + Quote(e.key) +
                    " must start with a letter or '_' and use only letters, digits, '_', '.' and '-'");
  }
  if (e.value.IsNull()) return;  // `done:` — an atomic state with nothing else
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), where, "a map (type, on, entry, …) or empty", e.value);
    return;
  }
  const std::vector<Entry> entries = Entries(e.value);
  const Entry* type_entry = nullptr;
  const Entry* states_entry = nullptr;
  for (const Entry& x : entries) {
    if (x.key == "type") type_entry = &x;
    if (x.key == "states") states_entry = &x;
  }

  StateKind kind = states_entry ? StateKind::kCompound : StateKind::kAtomic;
  bool explicit_atomic = false;
  if (type_entry) {
    const YAML::Node& v = type_entry->value;
    const std::string text = IsText(v) ? v.Scalar() : std::string();
    if (text == "atomic") {
      kind = StateKind::kAtomic;
      explicit_atomic = true;
    } else if (text == "compound") {
      kind = StateKind::kCompound;
    } else if (text == "parallel") {
      kind = StateKind::kParallel;
    } else if (text == "final") {
      kind = StateKind::kFinal;
    } else if (text == "history") {
      kind = StateKind::kHistory;
    } else if (v.IsMap() || v.IsSequence()) {
      WrongType(ValueAt(*type_entry), "'type' of " + where, "one of " + Join(kStateTypes), v);
    } else {
      diag_.Error(ValueAt(*type_entry), "bad-value",
                  "unknown state type " + Quote(v.Scalar()) + " for " + where +
                      DidYouMean(v.Scalar(), kStateTypes) + " (allowed: " + Join(kStateTypes) + ")");
    }
  }
  state(index).kind = kind;
  if (explicit_atomic && states_entry) {
    diag_.Error(states_entry->key_at, "bad-value",
                where + " has 'states', so it cannot be 'type: atomic'; make it compound or parallel, or "
                        "remove 'states'");
  }

  if (kind == StateKind::kHistory) {
    ParseHistoryKeys(e.value, index);
    return;
  }
  for (const Entry& x : entries) {
    if (x.key == "type") {
      continue;
    } else if (x.key == "history" || x.key == "target" || x.key == "actions") {
      diag_.Error(x.key_at, "unknown-key",
                  "'" + x.key + "' is only allowed on a history state, and " + where +
                      " is not one; add 'type: history' or remove '" + x.key + "'");
    } else if (x.key == "description") {
      std::string text;
      if (ReadText(x, "'description' of " + where, &text)) state(index).description = text;
    } else if (x.key == "initial") {
      if (kind != StateKind::kCompound) {
        const std::string why = kind == StateKind::kParallel
                                    ? "a parallel state enters all its regions at once"
                                    : "only a compound state (one with 'states') has an initial child";
        diag_.Error(x.key_at, "bad-initial", where + " cannot have 'initial': " + why + "; remove it");
        continue;
      }
      std::string id;
      if (ReadText(x, "'initial' of " + where, &id)) {
        model_.initials.push_back(InitialRef{index, id, ValueAt(x)});
      }
    } else if (x.key == "states") {
      if (kind == StateKind::kFinal) {
        diag_.Error(x.key_at, "final-has-transitions",
                    "final " + where + " cannot have child states: entering a final state ends its parent; "
                                       "remove 'states' or 'type: final'");
      }
      ParseChildStates(x, index);
    } else if (x.key == "entry") {
      state(index).entry = ParseActions(x, "'entry' of " + where);
    } else if (x.key == "exit") {
      state(index).exit = ParseActions(x, "'exit' of " + where);
    } else if (x.key == "transitions") {
      if (kind == StateKind::kFinal) {
        diag_.Error(x.key_at, "final-has-transitions",
                    "final " + where + " cannot have 'transitions': nothing happens after a final state is "
                                       "entered; remove 'transitions' or 'type: final'");
      }
      ParseTransitionList(x, index);
    } else if (x.key == "on" || x.key == "always") {
      if (kind == StateKind::kFinal) {
        diag_.Error(x.key_at, "final-has-transitions",
                    "final " + where + " cannot have '" + x.key +
                        "' transitions: nothing happens after a final state is entered; remove '" + x.key +
                        "' or 'type: final'");
      }
      if (x.key == "on") {
        ParseOn(x, index);
      } else {
        ParseTransitions(x, index, "");
      }
    } else if (x.key == "output") {
      if (kind != StateKind::kFinal) {
        diag_.Error(x.key_at, "unknown-key",
                    "'output' is only allowed on a final state, and " + where +
                        " is not final; add 'type: final' or remove 'output'");
      }
      std::optional<ValueSpec> value;
      std::vector<std::pair<std::string, ValueSpec>> fields;
      bool is_map = false;
      ParseData(x, "'output' of " + where, &value, &fields, &is_map);
      StateSpec& s = state(index);
      s.output_is_map = is_map;
      s.output_fields = std::move(fields);
      if (is_map) {
        ValueSpec literal;
        literal.literal = ToJson(x.value);
        s.output = std::move(literal);
      } else {
        s.output = std::move(value);
      }
    } else if (x.key == "task") {
      if (kind == StateKind::kFinal || kind == StateKind::kParallel) {
        diag_.Error(x.key_at, "task-not-allowed",
                    std::string(kind == StateKind::kFinal ? "final " : "parallel ") + where +
                        " cannot have a 'task': " +
                        (kind == StateKind::kFinal
                             ? "nothing happens after a final state is entered, so the task could "
                               "never be completed"
                             : "its regions run at once, so whose work would it be?") +
                        "; put the task on an atomic or compound state (for a parallel state: on one "
                        "of its regions)");
      }
      ParseTask(x, index);
    } else if (x.key == "after" || x.key == "at" || x.key == "sla") {
      if (kind == StateKind::kFinal) {
        diag_.Error(x.key_at, "final-has-transitions",
                    "final " + where + " cannot have '" + x.key +
                        "': nothing happens after a final state is entered, so its timers could never "
                        "fire; put it on the state before");
        continue;
      }
      if (x.key == "sla") {
        ParseSla(x, index, "'sla' of " + where);
      } else {
        ParseTimers(x, index);
      }
    } else {
      UnknownKey(x, where, kStateKeys);
    }
  }

  if ((kind == StateKind::kCompound || kind == StateKind::kParallel) && !states_entry) {
    diag_.Error(e.key_at, "missing-key",
                kind == StateKind::kParallel
                    ? "parallel " + where + " has no 'states': add its regions (two or more states)"
                    : "compound " + where + " has no 'states': add its child states, or remove 'type: compound'");
  }
  if (kind == StateKind::kParallel && state(index).children.size() == 1) {
    diag_.Warning(e.key_at, "parallel-too-small",
                  "parallel " + where +
                      " has only one region; regions of a parallel state run side by side, so add another "
                      "region or make it a compound state");
  }
}

// ---------------------------------------------------------------------------------------------------
// Transitions

// ---------------------------------------------------------------------------------------------------
// Human tasks (`task:`)

void Loader::ParseTask(const Entry& e, StateIndex s) {
  const std::string where = "'task' of " + StateWhere(s);
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), where, "a map (title, assignee, decisions, …)", e.value);
    return;
  }
  TaskSpec task;
  task.location = e.key_at;
  std::set<std::string> present;
  for (const Entry& x : Entries(e.value)) {
    present.insert(x.key);
    if (x.key == "title") {
      if (ReadText(x, "'title' of " + where, &task.title) && task.title.empty()) {
        diag_.Error(ValueAt(x), "bad-value", "'title' of " + where + " is empty; say what the person must do");
      }
    } else if (x.key == "description") {
      ReadText(x, "'description' of " + where, &task.description);
    } else if (x.key == "assignee") {
      ParseTaskAssignee(x, where, &task);
    } else if (x.key == "form") {
      ParseTaskForm(x, where, &task);
    } else if (x.key == "checklist") {
      if (!x.value.IsSequence()) {
        WrongType(ValueAt(x), "'checklist' of " + where, "a list of items (text)", x.value);
        continue;
      }
      for (const auto& item : x.value) {
        if (!IsText(item)) {
          WrongType(At(item), "an item of the 'checklist' of " + where, "text", item);
          continue;
        }
        task.checklist.push_back(item.Scalar());
      }
    } else if (x.key == "due") {
      std::string due;
      if (!ReadText(x, "'due' of " + where, &due)) continue;
      auto ms = ParseIsoDuration(due);
      if (!ms.ok()) {
        diag_.Error(ValueAt(x), "bad-duration", "'due' of " + where + ": " + ms.status().message());
        continue;
      }
      task.due = due;
      task.due_ms = ms->count();
    } else if (x.key == "sla") {
      ParseSla(x, s, "'sla' of " + where);
    } else if (x.key == "decisions") {
      ParseTaskDecisions(x, s, where, &task);
    } else {
      UnknownKey(x, where, kTaskKeys);
    }
  }
  if (!present.count("title")) {
    diag_.Error(e.key_at, "missing-key",
                where + " has no 'title' (required); say what the person must do, e.g. title: Review "
                        "the offer");
  }
  if (!present.count("decisions")) {
    diag_.Error(e.key_at, "missing-key",
                where + " has no 'decisions' (required): map each decision to the event it raises, e.g. "
                        "decisions: {approve: offer.approved}");
  }
  state(s).task = std::move(task);
}

void Loader::ParseTaskDecisions(const Entry& e, StateIndex s, const std::string& where, TaskSpec* task) {
  const std::string what = "'decisions' of " + where;
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), what, "a map of decision → event, e.g. {approve: offer.approved}", e.value);
    return;
  }
  const std::vector<Entry> entries = Entries(e.value);
  if (entries.empty()) {
    diag_.Error(ValueAt(e), "bad-value", what + " is empty; give at least one decision → event");
    return;
  }
  for (const Entry& d : entries) {
    if (!ReadTaskDecision(d, what, task)) continue;
    model_.decisions.push_back(DecisionRef{s, d.key, task->decisions.back().second, ValueAt(d)});
  }
}

void Loader::ParseOn(const Entry& e, StateIndex s) {
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), "'on' of " + StateWhere(s), "a map of event name → transition(s)", e.value);
    return;
  }
  for (const Entry& x : Entries(e.value)) {
    CheckEventDescriptor(x.key, x.key_at);
    ParseTransitions(x, s, x.key);
  }
}

void Loader::CheckEventDescriptor(const std::string& event, const SourceLocation& at) {
  if (std::regex_match(event, EventDescriptorPattern())) return;
  diag_.Error(at, "bad-value",
              "event name " + Quote(event) +
                  " is not valid: use dot-separated words of letters, digits, '_' and '-' "
                  "(e.g. payment.received), or '*' for every event");
}

void Loader::ParseTransitions(const Entry& e, StateIndex s, const std::string& event) {
  const std::string where =
      event.empty() ? "'always' of " + StateWhere(s) : "transition " + Quote(event) + " of " + StateWhere(s);
  const std::string expected = "a target state id, a transition map (target, guard, actions, type) or a "
                               "list of them";
  if (IsText(e.value)) {
    AddShorthand(e.value, s, event, e.key_at);
  } else if (e.value.IsMap()) {
    ParseTransitionMap(e.value, s, event, e.key_at, where);
  } else if (e.value.IsSequence()) {
    if (e.value.size() == 0) {
      diag_.Error(ValueAt(e), "bad-value", where + " is an empty list; give at least one transition");
      return;
    }
    for (const auto& item : e.value) {
      if (IsText(item)) {
        AddShorthand(item, s, event, At(item));
      } else if (item.IsMap()) {
        ParseTransitionMap(item, s, event, At(item), where);
      } else {
        WrongType(At(item), "each item of " + where, "a target state id or a transition map", item);
      }
    }
  } else {
    WrongType(ValueAt(e), where, expected, e.value);
  }
}

void Loader::AddShorthand(const YAML::Node& target, StateIndex s, const std::string& event,
                          const SourceLocation& at) {
  TransitionSpec t;
  t.event = event;
  t.source = s;
  t.location = at;
  t.target_ids.push_back(target.Scalar());
  model_.targets.push_back(TargetRef{s, state(s).transitions.size(), target.Scalar(), At(target)});
  state(s).transitions.push_back(std::move(t));
}

void Loader::ParseTransitionMap(const YAML::Node& map, StateIndex s, const std::string& event,
                                const SourceLocation& at, const std::string& where,
                                const std::vector<std::string>& skip_keys) {
  TransitionSpec t;
  t.event = event;
  t.source = s;
  t.location = at;
  const std::size_t transition_index = state(s).transitions.size();
  for (const Entry& x : Entries(map)) {
    if (std::find(skip_keys.begin(), skip_keys.end(), x.key) != skip_keys.end()) continue;
    if (x.key == "target") {
      auto add = [&](const YAML::Node& node) {
        t.target_ids.push_back(node.Scalar());
        model_.targets.push_back(TargetRef{s, transition_index, node.Scalar(), At(node)});
      };
      if (IsText(x.value)) {
        add(x.value);
      } else if (x.value.IsSequence()) {
        if (x.value.size() == 0) {
          diag_.Error(ValueAt(x), "bad-value",
                      "'target' of " + where + " is an empty list; name at least one state, or remove "
                                               "'target' for a targetless transition");
        }
        for (const auto& item : x.value) {
          if (IsText(item)) {
            add(item);
          } else {
            WrongType(At(item), "each item of 'target' of " + where, "a state id", item);
          }
        }
      } else {
        WrongType(ValueAt(x), "'target' of " + where, "a state id or a list of state ids", x.value);
      }
    } else if (x.key == "guard") {
      if (!IsText(x.value)) {
        WrongType(ValueAt(x), "'guard' of " + where, "a Lua expression written as text, e.g. \"ctx.total > 0\"",
                  x.value);
        continue;
      }
      t.guard = MakeLua(x.value, lua::SyntaxKind::kExpression, "the guard of " + where, true);
    } else if (x.key == "actions") {
      t.actions = ParseActions(x, "'actions' of " + where);
    } else if (x.key == "type") {
      const std::string text = IsText(x.value) ? x.value.Scalar() : std::string();
      if (text == "internal") {
        t.internal = true;
      } else if (text != "external") {
        if (x.value.IsMap() || x.value.IsSequence()) {
          WrongType(ValueAt(x), "'type' of " + where, "external or internal", x.value);
        } else {
          diag_.Error(ValueAt(x), "bad-value",
                      "unknown transition type " + Quote(x.value.Scalar()) + DidYouMean(x.value.Scalar(), kTransitionTypes) +
                          " (allowed: external, internal)");
        }
      }
    } else {
      UnknownKey(x, where, kTransitionKeys);
    }
  }
  state(s).transitions.push_back(std::move(t));
}

// ---------------------------------------------------------------------------------------------------
// Actions and values

std::vector<ActionSpec> Loader::ParseActions(const Entry& e, const std::string& where) {
  std::vector<ActionSpec> actions;
  if (!e.value.IsSequence()) {
    WrongType(ValueAt(e), where, "a list of actions (each item like '- assign: {…}' or '- lua: …')", e.value);
    return actions;
  }
  for (const auto& item : e.value) ParseAction(item, where, &actions);
  return actions;
}

void Loader::ParseAction(const YAML::Node& item, const std::string& where, std::vector<ActionSpec>* out) {
  if (!item.IsMap()) {
    std::string expected = "a map with one key: assign, emit, spawn, lua or script";
    if (IsText(item)) expected += " (to run Lua statements write '- lua: …')";
    WrongType(At(item), "an action in " + where, expected, item);
    return;
  }
  const std::vector<Entry> entries = Entries(item);
  if (entries.size() != 1) {
    std::vector<std::string> keys;
    for (const auto& x : entries) keys.push_back(x.key);
    diag_.Error(At(item), "bad-value",
                entries.empty()
                    ? "an action in " + where + " is empty; write one of assign, emit, spawn, lua or script"
                    : "an action in " + where + " has " + std::to_string(entries.size()) + " keys (" +
                          Join(keys) + "); an action has exactly one, so put each in its own list item");
  }
  for (const Entry& x : entries) {
    ActionSpec action;
    action.location = x.key_at;
    if (x.key == "assign") {
      action.kind = ActionSpec::Kind::kAssign;
      ParseAssign(x, &action);
    } else if (x.key == "emit") {
      action.kind = ActionSpec::Kind::kEmit;
      ParseEmit(x, &action);
    } else if (x.key == "spawn") {
      action.kind = ActionSpec::Kind::kSpawn;
      ParseSpawn(x, &action);
    } else if (x.key == "lua") {
      action.kind = ActionSpec::Kind::kLua;
      if (!IsText(x.value)) {
        WrongType(ValueAt(x), "'lua'", "Lua statements written as text", x.value);
        continue;
      }
      action.code = MakeLua(x.value, lua::SyntaxKind::kStatements, "'lua' action", false);
    } else if (x.key == "script") {
      action.kind = ActionSpec::Kind::kLua;
      ParseScript(x, &action);
    } else if (x.key == "notify") {
      action.kind = ActionSpec::Kind::kNotify;
      ParseNotify(x, &action);
    } else if (x.key == "call") {
      action.kind = ActionSpec::Kind::kCall;
      ParseCall(x, &action);
    } else if (x.key == "send") {
      action.kind = ActionSpec::Kind::kSend;
      ParseSend(x, &action);
    } else if (x.key == "cancel") {
      action.kind = ActionSpec::Kind::kCancel;
      ParseCancel(x, &action);
    } else if (x.key == "log") {
      action.kind = ActionSpec::Kind::kLog;
      ParseLog(x, &action);
    } else if (x.key == "if") {
      action.kind = ActionSpec::Kind::kIf;
      ParseIf(x, &action);
    } else if (x.key == "foreach") {
      action.kind = ActionSpec::Kind::kForeach;
      ParseForeach(x, &action);
    } else if (x.key == "block") {
      action.kind = ActionSpec::Kind::kBlock;
      action.nested = ParseActions(x, "'block' in " + where);
    } else {
      UnknownKey(x, "an action in " + where, kActionKeys);
      continue;
    }
    out->push_back(std::move(action));
  }
}

void Loader::ParseAssign(const Entry& e, ActionSpec* action) {
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), "'assign'", "a map of field → value, e.g. assign: { score: \"ctx.score + 1\" }",
              e.value);
    return;
  }
  const std::vector<Entry> fields = Entries(e.value);
  if (fields.empty()) {
    diag_.Error(ValueAt(e), "bad-value", "'assign' is empty; give at least one field → value");
  }
  for (const Entry& f : fields) {
    if (!std::regex_match(f.key, AssignPathPattern())) {
      diag_.Error(f.key_at, "bad-value",
                  "assign path " + Quote(f.key) +
                      " is not a field path: use names of letters, digits and '_' joined by dots, e.g. "
                      "customer.name");
    }
    action->assignments.emplace_back(f.key, ParseValue(f.value, "the value of " + Quote(f.key)));
  }
}

void Loader::ParseEmit(const Entry& e, ActionSpec* action) {
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), "'emit'", "a map, e.g. emit: { event: order.shipped, data: {…} }", e.value);
    return;
  }
  bool has_event = false;
  SourceLocation event_at;
  for (const Entry& x : Entries(e.value)) {
    if (x.key == "event") {
      has_event = true;
      std::string name;
      if (!ReadText(x, "'event' of 'emit'", &name)) continue;
      event_at = ValueAt(x);
      if (!std::regex_match(name, EventNamePattern())) {
        diag_.Error(event_at, "bad-value",
                    "event name " + Quote(name) +
                        " cannot be raised: use dot-separated words of letters, digits, '_' and '-' "
                        "(e.g. order.shipped)");
        continue;
      }
      action->event = name;
    } else if (x.key == "data") {
      ParseData(x, "'data' of 'emit'", &action->data, &action->data_fields, &action->data_is_map);
    } else if (x.key == "to") {
      action->to = ParseValue(x.value, "'to' of 'emit'");
    } else {
      UnknownKey(x, "'emit'", kEmitKeys);
    }
  }
  if (!has_event) {
    diag_.Error(e.key_at, "missing-key", "'emit' has no 'event': add the name of the event to raise");
  }
  if (!action->event.empty() && !action->to) model_.emits.push_back(EmitRef{action->event, event_at});
}

void Loader::ParseSpawn(const Entry& e, ActionSpec* action) {
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), "'spawn'", "a map, e.g. spawn: { machine: invoice, data: {…} }", e.value);
    return;
  }
  bool has_machine = false;
  for (const Entry& x : Entries(e.value)) {
    if (x.key == "machine") {
      has_machine = true;
      std::string name;
      if (!ReadText(x, "'machine' of 'spawn'", &name)) continue;
      if (!std::regex_match(name, MachineNamePattern())) {
        diag_.Error(ValueAt(x), "bad-value",
                    "machine name " + Quote(name) +
                        " must start with a lower-case letter and use only a-z, 0-9, '_', '.' and '-'");
        continue;
      }
      action->machine = name;
    } else if (x.key == "data") {
      ParseData(x, "'data' of 'spawn'", &action->data, &action->data_fields, &action->data_is_map);
    } else if (x.key == "key") {
      action->key = ParseValue(x.value, "'key' of 'spawn'");
    } else if (x.key == "id") {
      action->id = ParseValue(x.value, "'id' of 'spawn'");
    } else {
      UnknownKey(x, "'spawn'", kSpawnKeys);
    }
  }
  if (!has_machine) {
    diag_.Error(e.key_at, "missing-key", "'spawn' has no 'machine': add the name of the machine to start");
  }
}

void Loader::ParseData(const Entry& e, const std::string& what, std::optional<ValueSpec>* value,
                       std::vector<std::pair<std::string, ValueSpec>>* fields, bool* is_map) {
  if (e.value.IsMap()) {
    *is_map = true;
    for (const Entry& f : Entries(e.value)) {
      fields->emplace_back(f.key, ParseValue(f.value, "field " + Quote(f.key) + " of " + what));
    }
    return;
  }
  *value = ParseValue(e.value, what);
}

ValueSpec Loader::ParseValue(const YAML::Node& node, const std::string& what) {
  ValueSpec v;
  if (IsText(node)) {
    v.is_expression = true;
    v.expression = MakeLua(node, lua::SyntaxKind::kExpression, what, false);
  } else {
    v.literal = ToJson(node);
  }
  return v;
}

std::string Loader::ActionsDir() {
  if (actions_dir_) return *actions_dir_;
  if (!options_.actions_dir.empty()) {
    actions_dir_ = NormalizePath(options_.actions_dir);
  } else {
    // <dir>/../actions, then <dir>/actions, then the `actions/` folder next to each further ancestor
    // (workflows/<area>/x.yaml -> actions/); when none exists, <dir>/../actions (for the message).
    const std::string dir = DirName(file_);
    const std::string next_to_folder = NormalizePath(JoinPath(dir, "../actions"));
    std::vector<std::string> candidates = {next_to_folder, NormalizePath(JoinPath(dir, "actions"))};
    std::string up = "../..";
    for (int level = 0; level < 8; ++level, up += "/..") {
      const std::string candidate = NormalizePath(JoinPath(dir, up + "/actions"));
      if (candidate == candidates.back()) break;  // reached the file system root
      candidates.push_back(candidate);
    }
    actions_dir_ = next_to_folder;
    for (const auto& candidate : candidates) {
      if (IsDirectory(candidate)) {
        actions_dir_ = candidate;
        break;
      }
    }
  }
  return *actions_dir_;
}

void Loader::ParseScript(const Entry& e, ActionSpec* action) {
  std::string path;
  if (!ReadText(e, "'script'", &path)) return;
  action->script_path = path;
  const SourceLocation at = ValueAt(e);
  std::optional<std::string> content;
  std::string shown;
  if (!IsInsideRelative(path)) {
    diag_.Error(at, "script-not-found",
                "script path " + Quote(path) +
                    " must be a relative path inside the actions/ folder (no leading '/', no '..' out of it)");
    return;
  }
  if (options_.scripts != nullptr) {
    shown = NormalizePath(JoinPath("actions", path));
    for (const auto& [p, text] : *options_.scripts) {
      if (p == path) content = text;
    }
    if (!content) {
      diag_.Error(at, "script-not-found",
                  "script " + Quote(path) + " is not among the scripts stored with this definition");
      return;
    }
  } else {
    shown = NormalizePath(JoinPath(ActionsDir(), path));
    content = ReadRegularFile(shown);
    if (!content) {
      diag_.Error(at, "script-not-found",
                  "script " + Quote(path) + " not found: there is no file " + shown +
                      " (scripts are resolved in " + ActionsDir() + ")");
      return;
    }
  }
  action->code.source = *content;
  action->code.chunk_name = "=" + shown;
  action->code.location = SourceLocation{shown, 1, 1};
  CheckLua(action->code, true, lua::SyntaxKind::kStatements, "script " + Quote(path), false);
  ScanEmits(action->code, true);
  auto& scripts = model_.definition.scripts;
  const bool known = std::any_of(scripts.begin(), scripts.end(), [&](const auto& s) { return s.first == path; });
  if (!known) scripts.emplace_back(path, *content);
}

// ---------------------------------------------------------------------------------------------------

LoadResult Loader::Run() {
  Definition& d = model_.definition;
  d.source_file = file_;
  d.source_text = text_;

  const auto root = ParseSingleDocument(text_, "a workflow file holds one machine");
  if (!root) return LoadResult{nullptr, std::move(diag_.items())};
  ReadDocument(*root, [this](const YAML::Node& r) {
    ParseTop(r);
    ResolveReferences(model_, diag_);
    CheckReachability(model_, diag_);
    CheckEmittedEvents(model_, diag_);
    CheckTaskDecisions(model_, diag_);
    CheckContextSchema(model_, source_, diag_);
  });

  std::int32_t order = 0;
  for (auto& s : d.states) {
    for (auto& t : s.transitions) t.document_order = order++;
  }

  LoadResult result;
  result.diagnostics = std::move(diag_.items());
  std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(),
                   [this](const Diagnostic& a, const Diagnostic& b) {
                     const bool a_other = a.location.file != file_;
                     const bool b_other = b.location.file != file_;
                     if (a_other != b_other) return !a_other;
                     if (a.location.file != b.location.file) return a.location.file < b.location.file;
                     if (a.location.line != b.location.line) return a.location.line < b.location.line;
                     return a.location.column < b.location.column;
                   });
  if (!HasErrors(result.diagnostics)) {
    result.definition = std::make_shared<const Definition>(std::move(model_.definition));
  }
  return result;
}

}  // namespace internal

LoadResult LoadMachineText(const std::string& text, const std::string& file_name, const LoadOptions& options) {
  internal::Loader loader(text, file_name, options);
  return loader.Run();
}

LoadResult LoadMachineFile(const std::string& path, const LoadOptions& options) {
  auto text = internal::ReadRegularFile(path);
  if (!text) {
    LoadResult result;
    result.diagnostics.push_back(Diagnostic{SourceLocation{path, 0, 0}, Severity::kError, "unreadable-file",
                                            "cannot read " + path +
                                                ": it does not exist, is not a regular file or is not readable"});
    return result;
  }
  return LoadMachineText(*text, path, options);
}

}  // namespace nurt::dsl
