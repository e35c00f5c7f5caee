// The parts of the DSL that SCXML's executable content and data model need (docs/dsl.md "Sending,
// cancelling, logging, branching and loops", "History states", "Machine data"): the `send`,
// `cancel`, `log`, `if` and `foreach` actions, the machine's `data:` and `errors:`, and `type:
// history` states. They are ordinary DSL, usable in any machine; `nurt import scxml` maps SCXML
// onto them.

#include <yaml-cpp/yaml.h>

#include <regex>
#include <string>
#include <vector>

#include "dsl/loader_impl.hpp"
#include "dsl/model.hpp"
#include "dsl/yaml_walker.hpp"
#include "nurt/core/suggest.hpp"

namespace nurt::dsl::internal {

bool Loader::ReadPath(const Entry& e, const std::string& what, std::string* out) {
  std::string path;
  if (!ReadText(e, what, &path)) return false;
  if (!std::regex_match(path, AssignPathPattern())) {
    diag_.Error(
        ValueAt(e), "bad-value",
        what + " " + Quote(path) +
            " is not a field path: use names of letters, digits and '_' joined by dots, e.g. "
            "customer.name");
    return false;
  }
  *out = path;
  return true;
}

void Loader::ParseSend(const Entry& e, ActionSpec* action) {
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), "'send'",
              "a map, e.g. send: { event: reminder, delay: \"'PT1H'\", id: \"'r1'\" }", e.value);
    return;
  }
  bool has_event = false;
  for (const Entry& x : Entries(e.value)) {
    if (x.key == "event") {
      has_event = true;
      std::string name;
      if (!ReadText(x, "'event' of 'send'", &name)) continue;
      if (!std::regex_match(name, EventNamePattern())) {
        diag_.Error(ValueAt(x), "bad-value",
                    "event name " + Quote(name) +
                        " cannot be sent: use dot-separated words of letters, digits, '_' and '-' "
                        "(e.g. order.shipped)");
        continue;
      }
      action->event = name;
    } else if (x.key == "event_expr") {
      has_event = true;
      if (!IsText(x.value)) {
        WrongType(ValueAt(x), "'event_expr' of 'send'", "a Lua expression written as text",
                  x.value);
        continue;
      }
      action->event_expr =
          MakeLua(x.value, lua::SyntaxKind::kExpression, "'event_expr' of 'send'", false);
    } else if (x.key == "data") {
      ParseData(x, "'data' of 'send'", &action->data, &action->data_fields, &action->data_is_map);
    } else if (x.key == "to") {
      action->to = ParseValue(x.value, "'to' of 'send'");
    } else if (x.key == "delay") {
      action->delay = ParseValue(x.value, "'delay' of 'send'");
    } else if (x.key == "id") {
      action->send_id = ParseValue(x.value, "'id' of 'send'");
    } else if (x.key == "id_location") {
      ReadPath(x, "'id_location' of 'send'", &action->id_location);
    } else {
      UnknownKey(x, "'send'", kSendKeys);
    }
  }
  if (!has_event) {
    diag_.Error(e.key_at, "missing-key",
                "'send' has no 'event' (or 'event_expr'): add the name of the event to send");
  }
  if (!action->event.empty() && action->event_expr) {
    diag_.Error(e.key_at, "bad-value",
                "'send' has both 'event' and 'event_expr'; give one of them");
  }
}

void Loader::ParseCancel(const Entry& e, ActionSpec* action) {
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), "'cancel'", "a map, e.g. cancel: { id: \"'r1'\" }", e.value);
    return;
  }
  for (const Entry& x : Entries(e.value)) {
    if (x.key == "id") {
      action->send_id = ParseValue(x.value, "'id' of 'cancel'");
    } else {
      UnknownKey(x, "'cancel'", {"id"});
    }
  }
  if (!action->send_id) {
    diag_.Error(e.key_at, "missing-key",
                "'cancel' has no 'id': give the id of the 'send' to cancel");
  }
}

void Loader::ParseLog(const Entry& e, ActionSpec* action) {
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), "'log'", "a map, e.g. log: { label: total, value: \"ctx.total\" }",
              e.value);
    return;
  }
  for (const Entry& x : Entries(e.value)) {
    if (x.key == "label") {
      ReadText(x, "'label' of 'log'", &action->label);
    } else if (x.key == "value") {
      action->data = ParseValue(x.value, "'value' of 'log'");
    } else {
      UnknownKey(x, "'log'", {"label", "value"});
    }
  }
}

void Loader::ParseIf(const Entry& e, ActionSpec* action) {
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), "'if'", "a map with cond, then, else_if and else", e.value);
    return;
  }
  auto condition = [&](const Entry& x, const std::string& what) -> std::optional<LuaCode> {
    if (!IsText(x.value)) {
      WrongType(ValueAt(x), what, "a Lua expression written as text", x.value);
      return std::nullopt;
    }
    return MakeLua(x.value, lua::SyntaxKind::kExpression, what, true);
  };
  std::optional<LuaCode> cond;
  std::vector<ActionSpec> then;
  std::vector<std::optional<LuaCode>> more_conditions;
  std::vector<std::vector<ActionSpec>> more_blocks;
  bool has_else = false;
  std::vector<ActionSpec> otherwise;
  for (const Entry& x : Entries(e.value)) {
    if (x.key == "cond") {
      cond = condition(x, "'cond' of 'if'");
    } else if (x.key == "then") {
      then = ParseActions(x, "'then' of 'if'");
    } else if (x.key == "else") {
      has_else = true;
      otherwise = ParseActions(x, "'else' of 'if'");
    } else if (x.key == "else_if") {
      if (!x.value.IsSequence()) {
        WrongType(ValueAt(x), "'else_if' of 'if'", "a list of {cond, then}", x.value);
        continue;
      }
      for (const auto& item : x.value) {
        if (!item.IsMap()) {
          WrongType(At(item), "an item of 'else_if'", "a map with cond and then", item);
          continue;
        }
        std::optional<LuaCode> c;
        std::vector<ActionSpec> block;
        for (const Entry& y : Entries(item)) {
          if (y.key == "cond") {
            c = condition(y, "'cond' of 'else_if'");
          } else if (y.key == "then") {
            block = ParseActions(y, "'then' of 'else_if'");
          } else {
            UnknownKey(y, "an item of 'else_if'", {"cond", "then"});
          }
        }
        if (!c) diag_.Error(At(item), "missing-key", "an 'else_if' item has no 'cond'");
        more_conditions.push_back(std::move(c));
        more_blocks.push_back(std::move(block));
      }
    } else {
      UnknownKey(x, "'if'", kIfKeys);
    }
  }
  if (!cond) {
    diag_.Error(e.key_at, "missing-key",
                "'if' has no 'cond': give the Lua condition of its first branch");
  }
  action->conditions.push_back(std::move(cond));
  action->blocks.push_back(std::move(then));
  for (std::size_t i = 0; i < more_conditions.size(); ++i) {
    action->conditions.push_back(std::move(more_conditions[i]));
    action->blocks.push_back(std::move(more_blocks[i]));
  }
  if (has_else) {
    action->conditions.emplace_back();
    action->blocks.push_back(std::move(otherwise));
  }
}

void Loader::ParseForeach(const Entry& e, ActionSpec* action) {
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), "'foreach'", "a map with array, item, index and do", e.value);
    return;
  }
  bool has_array = false;
  for (const Entry& x : Entries(e.value)) {
    if (x.key == "array") {
      if (!IsText(x.value)) {
        WrongType(ValueAt(x), "'array' of 'foreach'", "a Lua expression written as text", x.value);
        continue;
      }
      has_array = true;
      action->code = MakeLua(x.value, lua::SyntaxKind::kExpression, "'array' of 'foreach'", false);
    } else if (x.key == "item") {
      ReadPath(x, "'item' of 'foreach'", &action->item);
    } else if (x.key == "index") {
      ReadPath(x, "'index' of 'foreach'", &action->index);
    } else if (x.key == "do") {
      action->nested = ParseActions(x, "'do' of 'foreach'");
    } else {
      UnknownKey(x, "'foreach'", kForeachKeys);
    }
  }
  if (!has_array)
    diag_.Error(e.key_at, "missing-key", "'foreach' has no 'array': give a Lua expression");
  if (action->item.empty()) {
    diag_.Error(e.key_at, "missing-key",
                "'foreach' has no 'item': give the ctx field each item goes to");
  }
}

void Loader::ParseMachineData(const Entry& e) {
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), "data", "a map of field → value (a string is a Lua expression)", e.value);
    return;
  }
  for (const Entry& f : Entries(e.value)) {
    if (!std::regex_match(f.key, AssignPathPattern())) {
      diag_.Error(f.key_at, "bad-value",
                  "data field " + Quote(f.key) +
                      " is not a field path (letters, digits and '_' joined by dots)");
    }
    model_.definition.data.emplace_back(f.key, ParseValue(f.value, "data field " + Quote(f.key)));
  }
}

void Loader::ParseErrors(const Entry& e) {
  std::string text;
  if (!ReadText(e, "errors", &text)) return;
  if (text == "ignore") {
    model_.definition.ignore_unhandled_errors = true;
  } else if (text != "reject") {
    diag_.Error(ValueAt(e), "bad-value",
                "errors " + Quote(text) + " is not known" + DidYouMean(text, {"reject", "ignore"}) +
                    "; write errors: reject (the default) or errors: ignore");
  }
}

// `transitions:` — one ordered list of transitions, each with its `event` (none: eventless). Unlike
// `on:`, whose map groups transitions by event, it keeps the written order across events, which
// SCXML's selection ("the first matching transition in document order") depends on.
void Loader::ParseTransitionList(const Entry& e, StateIndex s) {
  const std::string where = "'transitions' of " + StateWhere(s);
  if (!e.value.IsSequence()) {
    WrongType(ValueAt(e), where, "a list of transitions (event, target, guard, actions, type)",
              e.value);
    return;
  }
  for (const auto& item : e.value) {
    if (!item.IsMap()) {
      WrongType(At(item), "an item of " + where,
                "a transition map (event, target, guard, actions, type)", item);
      continue;
    }
    std::string event;
    for (const Entry& x : Entries(item)) {
      if (x.key != "event") continue;
      if (ReadText(x, "'event' of a transition in " + where, &event))
        CheckEventDescriptor(event, ValueAt(x));
    }
    ParseTransitionMap(
        item, s, event, At(item),
        (event.empty() ? "an eventless transition" : "transition " + Quote(event)) + " in " + where,
        {"event"});
  }
}

void Loader::ParseHistoryKeys(const YAML::Node& map, StateIndex s) {
  const std::string where = StateWhere(s);
  bool has_target = false;
  std::vector<std::string> not_transition_keys;
  for (const Entry& x : Entries(map)) {
    if (x.key == "target" || x.key == "actions") {
      has_target = has_target || x.key == "target";
      continue;
    }
    not_transition_keys.push_back(x.key);
    if (x.key == "type") continue;
    if (x.key == "description") {
      ReadText(x, "'description' of " + where, &state(s).description);
    } else if (x.key == "history") {
      std::string depth;
      if (!ReadText(x, "'history' of " + where, &depth)) continue;
      if (depth == "deep") {
        state(s).deep_history = true;
      } else if (depth != "shallow") {
        diag_.Error(ValueAt(x), "bad-value",
                    "history depth " + Quote(depth) + DidYouMean(depth, {"shallow", "deep"}) +
                        " is not known; write history: shallow (the default) or history: deep");
      }
    } else {
      diag_.Error(x.key_at, "unknown-key",
                  "'" + x.key + "' is not allowed on history " + where +
                      " (a history state has: type, history, target, actions, description)");
    }
  }
  if (!has_target) {
    diag_.Error(
        state(s).location, "missing-key",
        "history " + where +
            " has no 'target': name the state(s) entered the first time, before its parent was "
            "ever left");
  }
  if (state(s).parent == kRootState) {
    diag_.Error(state(s).location, "bad-value",
                "history " + where +
                    " is at the top level; a history state belongs to a compound or "
                    "parallel state, whose last configuration it restores");
  }
  // The default transition (target, actions) is the history state's only transition.
  ParseTransitionMap(map, s, "", state(s).location, "the default transition of history " + where,
                     not_transition_keys);
}

}  // namespace nurt::dsl::internal
