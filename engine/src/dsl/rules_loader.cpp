// The `kind: Rules` loader: YAML text -> RuleSet + every diagnostic (docs/rules.md).
//
// One pass over the YAML in document order, reporting key/type/value/Lua problems with the place they
// are written, like the machine loader (loader.cpp) whose helpers it shares (yaml_walker, Diagnostics,
// suggest). Task actions are read into the machine DSL's TaskSpec so the engine stores them alike.

#include "nurt/dsl/rules.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <date/tz.h>

#include "dsl/document_reader.hpp"
#include "dsl/loader_impl.hpp"
#include "dsl/file_io.hpp"
#include "dsl/model.hpp"
#include "dsl/yaml_walker.hpp"
#include "nurt/core/duration.hpp"
#include "nurt/core/suggest.hpp"
#include "nurt/lua/runtime.hpp"

namespace nurt::dsl {

namespace internal {
namespace {

const std::vector<std::string> kTopKeys = {"apiVersion", "kind",     "name", "description",
                                           "org",        "timeZone", "throttle", "rules"};
const std::vector<std::string> kRuleKeys = {"id",       "description", "on",       "machine",
                                            "when",     "once_per",    "throttle", "do"};
const std::vector<std::string> kThrottleKeys = {"limit", "per", "policy"};
const std::vector<std::string> kPolicies = {"queue", "drop"};
const std::vector<std::string> kActionKinds = {"notify", "webhook", "emit", "start", "task"};
const std::vector<std::string> kNotifyKeys = {"channel", "to", "subject", "body"};
const std::vector<std::string> kWebhookKeys = {"channel", "data", "body"};
const std::vector<std::string> kEmitKeys = {"event", "to", "data"};
const std::vector<std::string> kStartKeys = {"machine", "id", "data"};
const std::vector<std::string> kTaskKeys = {"title", "description", "assignee", "form",
                                            "checklist", "due", "decisions"};
const std::vector<std::string> kAssigneeKeys = {"role", "user"};
const std::vector<std::string> kFieldKeys = {"name", "type", "required", "label", "options"};

const std::regex& NamePattern() {
  static const std::regex re("[a-z][a-z0-9_.-]*");
  return re;
}
const std::regex& RuleIdPattern() {
  static const std::regex re("[A-Za-z0-9_][A-Za-z0-9_.-]*");
  return re;
}
const std::regex& OnPattern() {
  static const std::regex re("[A-Za-z0-9_*-]+(\\.[A-Za-z0-9_*-]+)*");
  return re;
}
const std::regex& ChannelPattern() {
  static const std::regex re("[A-Za-z0-9_][A-Za-z0-9_.-]*");
  return re;
}



class RulesLoader : public DocumentReader {
 public:
  RulesLoader(const std::string& text, const std::string& file)
      : DocumentReader(text, file), text_(text), file_(file) {}

  RulesLoadResult Run();

 private:
  bool ReadNonEmpty(const Entry& e, const std::string& what, std::string* out) {
    if (!ReadText(e, what, out)) return false;
    if (out->empty()) {
      diag_.Error(ValueAt(e), "bad-value", what + " is empty");
      return false;
    }
    return true;
  }

  void ParseTop(const YAML::Node& root);
  std::optional<RuleThrottle> ParseThrottle(const Entry& e, const std::string& where);
  void ParseRule(const YAML::Node& item, std::set<std::string>* ids);
  void ParseOn(const Entry& e, const std::string& where, RuleSpec* rule);
  void ParseOncePer(const Entry& e, const std::string& where, RuleSpec* rule);
  void CheckTemplate(const YAML::Node& node, const std::string& what);
  // Notification templates: any {{path}} (resolved against the notification's vars at send time);
  // only the braces are checked here.
  void CheckTemplateText(const Entry& e, const std::string& what) {
    const std::string& text = e.value.Scalar();
    for (std::size_t open = text.find("{{"); open != std::string::npos; open = text.find("{{", open + 2)) {
      if (text.find("}}", open + 2) == std::string::npos) {
        diag_.Error(TextStart(source_, e.value), "bad-template",
                    what + ": '{{' at character " + std::to_string(open + 1) + " is never closed with '}}'");
        return;
      }
    }
  }
  void ParseAction(const YAML::Node& item, const std::string& where, RuleSpec* rule);
  void ParseNotify(const Entry& e, const std::string& where, RuleAction* a, bool webhook);
  void ParseEmit(const Entry& e, const std::string& where, RuleAction* a);
  void ParseStart(const Entry& e, const std::string& where, RuleAction* a);
  void ParseTask(const Entry& e, const std::string& where, TaskSpec* task);
  void ParseData(const Entry& e, const std::string& what, RuleAction* a);
  ValueSpec ParseValue(const YAML::Node& node, const std::string& what);
  LuaCode MakeLua(const YAML::Node& node, const std::string& what);

  std::string text_;
  std::string file_;
  RuleSet set_;
};

LuaCode RulesLoader::MakeLua(const YAML::Node& node, const std::string& what) {
  bool block = false;
  LuaCode code;
  code.source = node.Scalar();
  code.location = TextStart(source_, node, &block);
  code.chunk_name = "=" + file_;
  const lua::Chunk chunk{code.source, file_, code.location.line};
  const auto error = lua::CheckSyntax(chunk, lua::SyntaxKind::kExpression);
  if (!error) return code;
  if (!lua::CheckSyntax(chunk, lua::SyntaxKind::kStatements).has_value()) {
    diag_.Error(code.location, "lua-syntax",
                what + " must be a Lua expression, but \"" + code.source +
                    "\" is a statement; write the value or condition itself (compare with '==', "
                    "not '='; no 'return')");
    return code;
  }
  int last_line = code.location.line;
  for (std::size_t i = 0; i + 1 < code.source.size(); ++i) last_line += code.source[i] == '\n';
  const int line = std::clamp(error->line == 0 ? code.location.line : error->line,
                              code.location.line, last_line);
  const int column = (line == code.location.line || block) ? code.location.column : 1;
  diag_.Error(SourceLocation{file_, line, column}, "lua-syntax",
              "Lua syntax error in " + what + ": " + error->message +
                  " (a string here is a Lua expression: write text with Lua quotes inside, e.g. "
                  "\"'won'\")");
  return code;
}

ValueSpec RulesLoader::ParseValue(const YAML::Node& node, const std::string& what) {
  ValueSpec v;
  if (IsText(node)) {
    v.is_expression = true;
    v.expression = MakeLua(node, what);
  } else {
    v.literal = ToJson(node);
  }
  return v;
}

void RulesLoader::ParseData(const Entry& e, const std::string& what, RuleAction* a) {
  if (e.value.IsMap()) {
    a->data_is_map = true;
    for (const Entry& f : Entries(e.value)) {
      a->data_fields.emplace_back(f.key, ParseValue(f.value, "field " + Quote(f.key) + " of " + what));
    }
    return;
  }
  a->data = ParseValue(e.value, what);
}

// ---------------------------------------------------------------------------------------------------
// Top level

void RulesLoader::ParseTop(const YAML::Node& root) {
  if (!root.IsMap()) {
    if (!root.IsDefined() || root.IsNull()) {
      diag_.Error(source_.At(1, 1), "wrong-type",
                  "the file is empty; a rules file is a map with apiVersion: nurt/v1, kind: Rules, name "
                  "and rules");
    } else {
      WrongType(At(root), "a rules file", "a map (apiVersion, kind, name, rules, …)", root);
    }
    return;
  }
  const SourceLocation top = At(root);
  std::set<std::string> present;
  for (const Entry& e : Entries(root)) {
    present.insert(e.key);
    if (e.key == "apiVersion") {
      if (!IsText(e.value) || e.value.Scalar() != "nurt/v1") {
        diag_.Error(ValueAt(e), "bad-value",
                    "apiVersion " + (e.value.IsScalar() ? Quote(e.value.Scalar()) : Describe(e.value)) +
                        " is not supported; write apiVersion: nurt/v1");
      } else {
        set_.api_version = e.value.Scalar();
      }
    } else if (e.key == "kind") {
      if (!IsText(e.value) || e.value.Scalar() != "Rules") {
        const std::string kind = e.value.IsScalar() ? e.value.Scalar() : Describe(e.value);
        diag_.Error(ValueAt(e), "bad-value",
                    "kind " + Quote(kind) + " is not a rules document" +
                        DidYouMean(kind, {"Rules"}) + "; write kind: Rules");
      }
    } else if (e.key == "name") {
      if (ReadText(e, "name", &set_.name) && !std::regex_match(set_.name, NamePattern())) {
        diag_.Error(ValueAt(e), "bad-value",
                    "rules name " + Quote(set_.name) +
                        " must start with a lower-case letter and use only a-z, 0-9, '_', '.' and '-'");
      }
    } else if (e.key == "description") {
      std::string ignored;
      ReadText(e, "description", &ignored);
    } else if (e.key == "org") {
      ReadNonEmpty(e, "org", &set_.org);
    } else if (e.key == "timeZone") {
      std::string zone;
      if (!ReadNonEmpty(e, "timeZone", &zone)) continue;
      try {
        (void)date::locate_zone(zone);
        set_.time_zone = zone;
      } catch (const std::exception&) {
        diag_.Error(ValueAt(e), "bad-value",
                    "timeZone " + Quote(zone) +
                        " is not a time zone of the tz database; write an IANA name such as "
                        "Europe/Warsaw");
      }
    } else if (e.key == "throttle") {
      set_.throttle = ParseThrottle(e, "the document's 'throttle'");
    } else if (e.key == "rules") {
      if (!e.value.IsSequence()) {
        WrongType(ValueAt(e), "rules", "a list of rules (- id: …, on: …, do: …)", e.value);
        continue;
      }
      if (e.value.size() == 0) {
        diag_.Error(ValueAt(e), "bad-value", "rules is empty; give at least one rule");
        continue;
      }
      std::set<std::string> ids;
      for (const auto& item : e.value) ParseRule(item, &ids);
    } else {
      UnknownKey(e, "the rules document", kTopKeys);
    }
  }
  for (const char* required : {"apiVersion", "kind", "name", "rules"}) {
    if (present.count(required)) continue;
    const std::string r = required;
    const std::string fix = r == "apiVersion" ? "add apiVersion: nurt/v1"
                            : r == "kind"     ? "add kind: Rules"
                            : r == "name"     ? "add name: <rules name>, e.g. name: invoice-reminders"
                                              : "add rules: with at least one rule";
    diag_.Error(top, "missing-key", "the rules document has no '" + r + "' (required); " + fix);
  }
}

std::optional<RuleThrottle> RulesLoader::ParseThrottle(const Entry& e, const std::string& where) {
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), where, "a map {limit, per, policy}, e.g. {limit: 100, per: PT1H, policy: queue}",
              e.value);
    return std::nullopt;
  }
  RuleThrottle t;
  t.location = e.key_at;
  bool ok = true, has_limit = false, has_per = false;
  for (const Entry& x : Entries(e.value)) {
    if (x.key == "limit") {
      has_limit = true;
      const bool integer = x.value.IsScalar() && ResolveScalar(x.value) == ScalarType::kInt;
      if (!integer || ToJson(x.value).get<std::int64_t>() < 1) {
        if (integer) {
          diag_.Error(ValueAt(x), "bad-value",
                      "'limit' of " + where + " must be at least 1 (to stop a rule, remove it)");
        } else {
          WrongType(ValueAt(x), "'limit' of " + where, "a whole number (1, 2, …)", x.value);
        }
        ok = false;
        continue;
      }
      t.limit = ToJson(x.value).get<std::int64_t>();
    } else if (x.key == "per") {
      has_per = true;
      if (!ReadText(x, "'per' of " + where, &t.per)) {
        ok = false;
        continue;
      }
      auto ms = ParseIsoDuration(t.per);
      if (!ms.ok()) {
        diag_.Error(ValueAt(x), "bad-duration", "'per' of " + where + ": " + ms.status().message());
        ok = false;
        continue;
      }
      t.per_ms = ms->count();
    } else if (x.key == "policy") {
      std::string policy;
      if (!ReadText(x, "'policy' of " + where, &policy)) {
        ok = false;
        continue;
      }
      if (policy == "queue") {
        t.policy = RuleThrottle::Policy::kQueue;
      } else if (policy == "drop") {
        t.policy = RuleThrottle::Policy::kDrop;
      } else {
        diag_.Error(ValueAt(x), "bad-value",
                    "unknown policy " + Quote(policy) + " in " + where + DidYouMean(policy, kPolicies) +
                        " (allowed: queue = send later when the window has room, drop = do not send)");
        ok = false;
      }
    } else {
      UnknownKey(x, where, kThrottleKeys);
      ok = false;
    }
  }
  if (!has_limit) {
    diag_.Error(e.key_at, "missing-key", where + " has no 'limit' (required), e.g. limit: 100");
  }
  if (!has_per) {
    diag_.Error(e.key_at, "missing-key", where + " has no 'per' (required), e.g. per: PT1H");
  }
  if (!ok || !has_limit || !has_per) return std::nullopt;
  return t;
}

// ---------------------------------------------------------------------------------------------------
// Rules

void RulesLoader::ParseRule(const YAML::Node& item, std::set<std::string>* ids) {
  if (!item.IsMap()) {
    WrongType(At(item), "each item of rules", "a map (id, on, when, do, …)", item);
    return;
  }
  RuleSpec rule;
  rule.location = At(item);
  std::string where = "a rule";
  // The id first, so every message about this rule can name it.
  for (const Entry& x : Entries(item)) {
    if (x.key != "id") continue;
    if (!ReadNonEmpty(x, "'id' of a rule", &rule.id)) continue;
    where = "rule " + Quote(rule.id);
    if (!std::regex_match(rule.id, RuleIdPattern())) {
      diag_.Error(ValueAt(x), "bad-value",
                  "rule id " + Quote(rule.id) +
                      " must use only letters, digits, '_', '.' and '-' (it appears in keys and metrics)");
    } else if (!ids->insert(rule.id).second) {
      diag_.Error(ValueAt(x), "duplicate-rule",
                  "rule id " + Quote(rule.id) +
                      " is used twice in this document; each rule needs its own id (it keys the "
                      "once_per record)");
    }
  }
  std::set<std::string> present;
  for (const Entry& x : Entries(item)) {
    present.insert(x.key);
    if (x.key == "id") {
      continue;
    } else if (x.key == "description") {
      ReadText(x, "'description' of " + where, &rule.description);
    } else if (x.key == "on") {
      ParseOn(x, where, &rule);
    } else if (x.key == "machine") {
      if (ReadNonEmpty(x, "'machine' of " + where, &rule.machine) &&
          !std::regex_match(rule.machine, NamePattern())) {
        diag_.Error(ValueAt(x), "bad-value",
                    "machine name " + Quote(rule.machine) +
                        " must start with a lower-case letter and use only a-z, 0-9, '_', '.' and '-'");
      }
    } else if (x.key == "when") {
      if (!IsText(x.value)) {
        WrongType(ValueAt(x), "'when' of " + where,
                  "a Lua condition (text), e.g. when: \"context.amount > 1000\"", x.value);
        continue;
      }
      rule.when = MakeLua(x.value, "'when' of " + where);
    } else if (x.key == "once_per") {
      ParseOncePer(x, where, &rule);
    } else if (x.key == "throttle") {
      rule.throttle = ParseThrottle(x, "'throttle' of " + where);
    } else if (x.key == "do") {
      if (!x.value.IsSequence()) {
        WrongType(ValueAt(x), "'do' of " + where,
                  "a list of actions (- notify: …, - emit: …, - start: …, - task: …, - webhook: …)",
                  x.value);
        continue;
      }
      if (x.value.size() == 0) {
        diag_.Error(ValueAt(x), "bad-value", "'do' of " + where + " is empty; give at least one action");
        continue;
      }
      for (const auto& action : x.value) ParseAction(action, where, &rule);
    } else {
      UnknownKey(x, where, kRuleKeys);
    }
  }
  for (const char* required : {"id", "on", "do"}) {
    if (present.count(required)) continue;
    const std::string r = required;
    const std::string fix = r == "id"   ? "add id: <unique name>, e.g. id: overdue-reminder"
                            : r == "on" ? "add on: <event type or glob>, e.g. on: invoice.overdue"
                                        : "add do: with at least one action";
    diag_.Error(rule.location, "missing-key", where + " has no '" + r + "' (required); " + fix);
  }
  set_.rules.push_back(std::move(rule));
}

void RulesLoader::ParseOn(const Entry& e, const std::string& where, RuleSpec* rule) {
  std::vector<YAML::Node> items;
  if (e.value.IsSequence()) {
    if (e.value.size() == 0) {
      diag_.Error(ValueAt(e), "bad-value", "'on' of " + where + " is an empty list; give at least one event type");
      return;
    }
    for (const auto& i : e.value) items.push_back(i);
  } else {
    items.push_back(e.value);
  }
  for (const auto& node : items) {
    const SourceLocation at = node.IsNull() ? e.key_at : At(node);
    if (!IsText(node)) {
      WrongType(at, "'on' of " + where, "an event type or glob (text) or a list of them", node);
      continue;
    }
    const std::string pattern = node.Scalar();
    if (!std::regex_match(pattern, OnPattern())) {
      diag_.Error(at, "bad-value",
                  "event pattern " + Quote(pattern) + " in 'on' of " + where +
                      " is not valid: use dot-separated words of letters, digits, '_' and '-', where "
                      "'*' stands for any characters (e.g. invoice.overdue, invoice.*, *.failed)");
      continue;
    }
    rule->on.push_back(pattern);
  }
}

void RulesLoader::CheckTemplate(const YAML::Node& node, const std::string& what) {
  const std::string text = node.Scalar();
  const SourceLocation at = TextStart(source_, node);
  std::size_t open = 0;
  while ((open = text.find("{{", open)) != std::string::npos) {
    if (text.find("}}", open + 2) == std::string::npos) {
      diag_.Error(at, "bad-template", what + ": '{{' at character " + std::to_string(open + 1) +
                                          " is never closed with '}}'");
      return;
    }
    open += 2;
  }
  for (auto it = std::sregex_iterator(text.begin(), text.end(), PlaceholderPattern());
       it != std::sregex_iterator(); ++it) {
    const std::string path = (*it)[1].str();
    const std::string root = path.substr(0, path.find('.'));
    const auto& roots = OncePerRoots();
    if (path.empty() || std::find(roots.begin(), roots.end(), root) == roots.end()) {
      diag_.Error(at, "bad-template",
                  what + ": unknown placeholder {{" + path + "}}" + DidYouMean(root, roots) +
                      " (allowed: {{" + Join(roots) + "}}, and paths below event and context such as "
                      "{{event.payload.invoice_id}})");
    } else if ((root == "rule" || root == "entity" || root == "day" || root == "machine") &&
               path != root) {
      diag_.Error(at, "bad-template",
                  what + ": {{" + root + "}} has no fields; write {{" + root + "}} alone");
    }
  }
}

void RulesLoader::ParseOncePer(const Entry& e, const std::string& where, RuleSpec* rule) {
  std::string text;
  if (!ReadNonEmpty(e, "'once_per' of " + where, &text)) return;
  if (text == "none" || text == "every_event") {
    rule->once_per.clear();
    return;
  }
  CheckTemplate(e.value, "'once_per' of " + where);
  if (text.find("{{") == std::string::npos) {
    diag_.Error(ValueAt(e), "bad-template",
                "'once_per' of " + where + " is " + Quote(text) +
                    " with no placeholder: the rule would fire once ever; write a template such as "
                    "\"{{rule}}:{{entity}}:{{day}}\", or once_per: every_event");
    return;
  }
  rule->once_per = text;
}

// ---------------------------------------------------------------------------------------------------
// Actions

void RulesLoader::ParseAction(const YAML::Node& item, const std::string& where, RuleSpec* rule) {
  if (!item.IsMap() || item.size() != 1) {
    WrongType(At(item), "each action in 'do' of " + where,
              "a map with exactly one key: " + Join(kActionKinds), item);
    return;
  }
  const Entry e = Entries(item).empty() ? Entry{} : Entries(item).front();
  if (e.key.empty()) return;
  RuleAction a;
  a.location = e.key_at;
  if (e.key == "notify") {
    a.kind = RuleAction::Kind::kNotify;
    ParseNotify(e, where, &a, false);
  } else if (e.key == "webhook") {
    a.kind = RuleAction::Kind::kWebhook;
    ParseNotify(e, where, &a, true);
  } else if (e.key == "emit") {
    a.kind = RuleAction::Kind::kEmit;
    ParseEmit(e, where, &a);
  } else if (e.key == "start") {
    a.kind = RuleAction::Kind::kStart;
    ParseStart(e, where, &a);
  } else if (e.key == "task") {
    a.kind = RuleAction::Kind::kTask;
    ParseTask(e, where, &a.task);
  } else {
    const std::string hint = DidYouMean(e.key, kActionKinds);
    diag_.Error(e.key_at, "unknown-action",
                "unknown action " + Quote(e.key) + " in 'do' of " + where +
                    (hint.empty() ? "; the actions are: " + Join(kActionKinds) : hint));
    return;
  }
  rule->actions.push_back(std::move(a));
}

void RulesLoader::ParseNotify(const Entry& e, const std::string& where, RuleAction* a, bool webhook) {
  const std::string what = "'" + e.key + "' of " + where;
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), what,
              webhook ? "a map, e.g. webhook: {channel: crm-hook, data: {invoice: \"event.payload.id\"}}"
                      : "a map, e.g. notify: {channel: email, subject: \"…\", body: \"…\"}",
              e.value);
    return;
  }
  bool has_channel = false, has_body = false;
  for (const Entry& x : Entries(e.value)) {
    if (x.key == "channel") {
      has_channel = true;
      if (ReadNonEmpty(x, "'channel' of " + what, &a->channel) &&
          !std::regex_match(a->channel, ChannelPattern())) {
        diag_.Error(ValueAt(x), "bad-value",
                    "channel " + Quote(a->channel) + " in " + what +
                        " must use only letters, digits, '_', '.' and '-' (a name from the org's "
                        "channel configuration, e.g. email or ops-slack)");
      }
    } else if (!webhook && x.key == "to") {
      std::vector<YAML::Node> items;
      if (x.value.IsSequence()) {
        for (const auto& i : x.value) items.push_back(i);
      } else {
        items.push_back(x.value);
      }
      for (const auto& node : items) {
        if (!IsText(node) || node.Scalar().find('@') == std::string::npos) {
          diag_.Error(node.IsNull() ? x.key_at : At(node), "bad-value",
                      "'to' of " + what + " must be email addresses (text with '@') or a list of them" +
                          (IsText(node) ? ", not " + Quote(node.Scalar()) : ", not " + Describe(node)));
          continue;
        }
        a->to.push_back(node.Scalar());
      }
    } else if (!webhook && x.key == "subject") {
      if (ReadText(x, "'subject' of " + what, &a->subject)) CheckTemplateText(x, "'subject' of " + what);
    } else if (x.key == "body") {
      has_body = true;
      if (ReadText(x, "'body' of " + what, &a->body)) CheckTemplateText(x, "'body' of " + what);
    } else if (webhook && x.key == "data") {
      ParseData(x, "'data' of " + what, a);
    } else {
      UnknownKey(x, what, webhook ? kWebhookKeys : kNotifyKeys);
    }
  }
  if (!has_channel) {
    diag_.Error(e.key_at, "missing-key",
                what + " has no 'channel' (required): the name of a channel of the org's channel "
                       "configuration, e.g. " + (webhook ? "crm-hook" : "email"));
  }
  if (!webhook && !has_body) {
    diag_.Error(e.key_at, "missing-key",
                what + " has no 'body' (required): the message, e.g. body: \"Invoice {{context.number}} "
                       "is overdue\"");
  }
}

void RulesLoader::ParseEmit(const Entry& e, const std::string& where, RuleAction* a) {
  const std::string what = "'emit' of " + where;
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), what, "a map, e.g. emit: {event: reminder.due, to: \"event.payload.customer\"}",
              e.value);
    return;
  }
  bool has_event = false;
  for (const Entry& x : Entries(e.value)) {
    if (x.key == "event") {
      has_event = true;
      if (ReadNonEmpty(x, "'event' of " + what, &a->event) &&
          !std::regex_match(a->event, EventNamePattern())) {
        diag_.Error(ValueAt(x), "bad-value",
                    "event name " + Quote(a->event) + " in " + what +
                        " cannot be raised: use dot-separated words of letters, digits, '_' and '-'");
      }
    } else if (x.key == "to") {
      a->target = ParseValue(x.value, "'to' of " + what);
    } else if (x.key == "data") {
      ParseData(x, "'data' of " + what, a);
    } else {
      UnknownKey(x, what, kEmitKeys);
    }
  }
  if (!has_event) {
    diag_.Error(e.key_at, "missing-key", what + " has no 'event': add the name of the event to send");
  }
}

void RulesLoader::ParseStart(const Entry& e, const std::string& where, RuleAction* a) {
  const std::string what = "'start' of " + where;
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), what, "a map, e.g. start: {machine: collection, data: {…}}", e.value);
    return;
  }
  bool has_machine = false;
  for (const Entry& x : Entries(e.value)) {
    if (x.key == "machine") {
      has_machine = true;
      if (ReadNonEmpty(x, "'machine' of " + what, &a->machine) &&
          !std::regex_match(a->machine, NamePattern())) {
        diag_.Error(ValueAt(x), "bad-value",
                    "machine name " + Quote(a->machine) +
                        " must start with a lower-case letter and use only a-z, 0-9, '_', '.' and '-'");
      }
    } else if (x.key == "id") {
      a->id = ParseValue(x.value, "'id' of " + what);
    } else if (x.key == "data") {
      ParseData(x, "'data' of " + what, a);
    } else {
      UnknownKey(x, what, kStartKeys);
    }
  }
  if (!has_machine) {
    diag_.Error(e.key_at, "missing-key", what + " has no 'machine': add the name of the machine to start");
  }
}

void RulesLoader::ParseTask(const Entry& e, const std::string& where, TaskSpec* task) {
  const std::string what = "'task' of " + where;
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), what, "a map (title, assignee, decisions, …)", e.value);
    return;
  }
  task->location = e.key_at;
  std::set<std::string> present;
  for (const Entry& x : Entries(e.value)) {
    present.insert(x.key);
    if (x.key == "title") {
      ReadNonEmpty(x, "'title' of " + what, &task->title);
    } else if (x.key == "description") {
      ReadText(x, "'description' of " + what, &task->description);
    } else if (x.key == "assignee") {
      ParseTaskAssignee(x, what, task);
    } else if (x.key == "form") {
      ParseTaskForm(x, what, task);
    } else if (x.key == "checklist") {
      if (!x.value.IsSequence()) {
        WrongType(ValueAt(x), "'checklist' of " + what, "a list of items (text)", x.value);
        continue;
      }
      for (const auto& item : x.value) {
        if (!IsText(item)) {
          WrongType(At(item), "an item of the 'checklist' of " + what, "text", item);
          continue;
        }
        task->checklist.push_back(item.Scalar());
      }
    } else if (x.key == "due") {
      std::string due;
      if (!ReadText(x, "'due' of " + what, &due)) continue;
      auto ms = ParseIsoDuration(due);
      if (!ms.ok()) {
        diag_.Error(ValueAt(x), "bad-duration", "'due' of " + what + ": " + ms.status().message());
        continue;
      }
      task->due = due;
      task->due_ms = ms->count();
    } else if (x.key == "decisions") {
      if (!x.value.IsMap() || x.value.size() == 0) {
        WrongType(ValueAt(x), "'decisions' of " + what,
                  "a non-empty map of decision → event, e.g. {done: reminder.handled}", x.value);
        continue;
      }
      for (const Entry& d : Entries(x.value)) {
        ReadTaskDecision(d, what, task);
      }
    } else {
      UnknownKey(x, what, kTaskKeys);
    }
  }
  if (!present.count("title")) {
    diag_.Error(e.key_at, "missing-key", what + " has no 'title' (required); say what the person must do");
  }
  if (!present.count("assignee")) {
    diag_.Error(e.key_at, "missing-key",
                what + " has no 'assignee' (required): {role: finance} or {user: anna@firma.pl}");
  }
  if (!present.count("decisions")) {
    diag_.Error(e.key_at, "missing-key",
                what + " has no 'decisions' (required): map each decision to the event it sends to the "
                       "entity, e.g. decisions: {done: reminder.handled}");
  }
}

// ---------------------------------------------------------------------------------------------------

RulesLoadResult RulesLoader::Run() {
  set_.source_file = file_;
  set_.source_text = text_;
  const auto root = ParseSingleDocument(text_, "a rules file holds one document");
  if (!root) return RulesLoadResult{nullptr, TakeSortedDiagnostics()};
  ReadDocument(*root, [this](const YAML::Node& r) { ParseTop(r); });
  RulesLoadResult result;
  result.diagnostics = TakeSortedDiagnostics();
  if (!HasErrors(result.diagnostics)) result.rules = std::make_shared<const RuleSet>(std::move(set_));
  return result;
}

}  // namespace
}  // namespace internal

const std::vector<std::string>& OncePerRoots() {
  static const std::vector<std::string> kRoots = {"rule", "entity", "day", "machine", "event", "context"};
  return kRoots;
}

RulesLoadResult LoadRulesText(const std::string& text, const std::string& file_name) {
  internal::RulesLoader loader(text, file_name);
  return loader.Run();
}

RulesLoadResult LoadRulesFile(const std::string& path) {
  auto text = internal::ReadRegularFile(path);
  if (!text) {
    RulesLoadResult result;
    result.diagnostics.push_back(Diagnostic{
        SourceLocation{path, 0, 0}, Severity::kError, "unreadable-file",
        "cannot read " + path + ": it does not exist, is not a regular file or is not readable"});
    return result;
  }
  return LoadRulesText(*text, path);
}

bool IsRulesDocument(const std::string& text) {
  static const std::regex kRulesKind(R"((^|\n)kind:\s*Rules\s*(#.*)?(\r?\n|$))");
  return std::regex_search(text, kRulesKind);
}

bool IsRulesFile(const std::string& path) {
  auto text = internal::ReadRegularFile(path);
  return text && IsRulesDocument(*text);
}

bool RuleEventMatches(const std::string& pattern, const std::string& type) {
  // Iterative glob with backtracking to the last '*': linear for the patterns `on:` allows.
  std::size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < type.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == type[t]) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace nurt::dsl
