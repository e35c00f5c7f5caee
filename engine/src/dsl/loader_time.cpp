// The loader's time-related pass: `after:` and `at:` timers, `sla:` (on a state or its task) and the
// `notify` action (docs/dsl.md "Timers and SLAs", "Notifications").
//
// Every timer becomes a TimerSpec of its state. A timer that takes a transition gets a synthetic event
// (TimerEventName) and an ordinary TransitionSpec for it, so the interpreter needs nothing new; a timer
// that raises a named event is handled by the machine's own `on:` transitions. SLA points raise
// `sla.warning.<state>`, `sla.breached.<state>` and `sla.escalated.<state>.<level>`, each with a
// targetless transition running the SLA's actions, so they are in the history and rules can match them.

#include <algorithm>
#include <regex>

#include "dsl/loader_impl.hpp"
#include "nurt/core/duration.hpp"

namespace nurt::dsl::internal {
namespace {

const std::vector<std::string> kAfterKeys = {"delay", "business", "raise", "target", "guard", "actions", "type"};
const std::vector<std::string> kAtKeys = {"time", "offset", "business", "raise", "target", "guard", "actions",
                                          "type"};
const std::vector<std::string> kSlaKeys = {"target", "warning", "business", "on_warning", "on_breach",
                                           "escalations"};
const std::vector<std::string> kEscalationKeys = {"level", "after", "do"};
const std::vector<std::string> kNotifyKeys = {"channel", "to", "subject", "body"};
const std::vector<std::string> kTimerOwnKeys = {"delay", "time", "offset", "business", "raise"};

bool IsSla(const TimerSpec& t) {
  return t.kind == TimerSpec::Kind::kSlaWarning || t.kind == TimerSpec::Kind::kSlaBreach ||
         t.kind == TimerSpec::Kind::kSlaEscalation;
}

// Column (1-based) of the first unbalanced "{{" or "}}" in a template, or 0 when it is well formed.
std::size_t UnbalancedPlaceholder(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t open = text.find("{{", i);
    const std::size_t close = text.find("}}", i);
    if (open == std::string::npos) return close == std::string::npos ? 0 : close + 1;
    if (close != std::string::npos && close < open) return close + 1;
    const std::size_t end = text.find("}}", open + 2);
    if (end == std::string::npos) return open + 1;
    const std::size_t nested = text.find("{{", open + 2);
    if (nested != std::string::npos && nested < end) return nested + 1;
    i = end + 2;
  }
  return 0;
}

}  // namespace

std::optional<DelaySpec> Loader::ParseDelay(const YAML::Node& node, const std::string& what, bool business,
                                            bool allow_negative) {
  if (!IsText(node) || node.Scalar().empty()) {
    WrongType(At(node), what, "an ISO-8601 duration such as PT4H, P3D or P3WD (working days)", node);
    return std::nullopt;
  }
  DelaySpec d;
  d.text = node.Scalar();
  std::string text = d.text;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    if (text[0] == '-') {
      if (!allow_negative) {
        diag_.Error(At(node), "bad-duration",
                    what + " is negative (" + d.text + "); a timer cannot fire before it is armed");
        return std::nullopt;
      }
      d.negative = true;
    }
    text = text.substr(1);
  }
  static const std::regex kWorkingDays("P([0-9]+)WD(T.*)?");
  std::smatch m;
  if (std::regex_match(text, m, kWorkingDays)) {
    d.business = true;
    d.working_days = std::stoi(m[1].str());
    if (m[2].matched) {
      auto rest = ParseIsoDuration("P" + m[2].str());
      if (!rest.ok()) {
        diag_.Error(At(node), "bad-duration", what + ": " + rest.status().message());
        return std::nullopt;
      }
      d.working_time = *rest;
    }
    return d;
  }
  auto ms = ParseIsoDuration(text);
  if (!ms.ok()) {
    diag_.Error(At(node), "bad-duration",
                what + ": " + ms.status().message() + " (working days are written P3WD)");
    return std::nullopt;
  }
  if (business) {
    constexpr std::int64_t kDay = 24LL * 3600 * 1000;
    d.business = true;
    d.working_days = static_cast<int>(ms->count() / kDay);
    d.working_time = std::chrono::milliseconds(ms->count() % kDay);
  } else {
    d.elapsed = *ms;
  }
  return d;
}

void Loader::ParseTimers(const Entry& e, StateIndex s) {
  const bool is_at = e.key == "at";
  const std::string where = "'" + e.key + "' of " + StateWhere(s);
  if (e.value.IsMap()) {
    ParseTimer(e.value, s, is_at, where);
  } else if (e.value.IsSequence() && e.value.size() > 0) {
    for (const auto& item : e.value) ParseTimer(item, s, is_at, where);
  } else {
    WrongType(ValueAt(e), where,
              is_at ? "a timer map (time, offset, target or raise) or a list of them"
                    : "a timer map (delay, target or raise) or a list of them",
              e.value);
  }
}

void Loader::ParseTimer(const YAML::Node& item, StateIndex s, bool is_at, const std::string& where) {
  if (!item.IsMap()) {
    WrongType(At(item), "a timer in " + where,
              is_at ? "a map (time, offset, target or raise, …)" : "a map (delay, target or raise, …)", item);
    return;
  }
  TimerSpec timer;
  timer.kind = is_at ? TimerSpec::Kind::kAt : TimerSpec::Kind::kAfter;
  timer.location = At(item);
  const Entry* delay = nullptr;
  const Entry* time = nullptr;
  const Entry* offset = nullptr;
  const Entry* raise = nullptr;
  bool business = false;
  bool transition = false;
  const std::vector<Entry> entries = Entries(item);
  for (const Entry& x : entries) {
    if (x.key == "delay" && !is_at) {
      delay = &x;
    } else if (x.key == "time" && is_at) {
      time = &x;
    } else if (x.key == "offset" && is_at) {
      offset = &x;
    } else if (x.key == "raise") {
      raise = &x;
    } else if (x.key == "business") {
      if (!(x.value.IsScalar() && ResolveScalar(x.value) == ScalarType::kBool)) {
        WrongType(ValueAt(x), "'business' of a timer in " + where, "true or false", x.value);
        continue;
      }
      business = ToJson(x.value).get<bool>();
    } else if (std::find(kTransitionKeys.begin(), kTransitionKeys.end(), x.key) != kTransitionKeys.end()) {
      transition = true;
    } else {
      UnknownKey(x, "a timer in " + where, is_at ? kAtKeys : kAfterKeys);
    }
  }
  const std::string what = "the timer in " + where;
  if (!is_at) {
    if (!delay) {
      diag_.Error(timer.location, "missing-key",
                  what + " has no 'delay'; say how long after entering the state it fires, e.g. delay: PT4H "
                         "(or P3WD for three working days)");
    } else if (auto d = ParseDelay(delay->value, "'delay' of " + what, business, false)) {
      timer.delay = *d;
    }
  } else {
    if (!time) {
      diag_.Error(timer.location, "missing-key",
                  what + " has no 'time'; give a Lua expression for the moment it fires, e.g. time: "
                         "ctx.installation_date");
    } else if (!IsText(time->value)) {
      WrongType(ValueAt(*time), "'time' of " + what,
                "a Lua expression giving an ISO-8601 date or time (or seconds since 1970)", time->value);
    } else {
      timer.at = MakeLua(time->value, lua::SyntaxKind::kExpression, "'time' of " + what, false);
    }
    if (offset) {
      if (auto d = ParseDelay(offset->value, "'offset' of " + what, business, true)) timer.delay = *d;
    }
  }
  const std::size_t index = state(s).timers.size();
  if (raise && transition) {
    diag_.Error(raise->key_at, "bad-value",
                what + " both raises an event and takes a transition; keep 'raise' (and handle the event "
                       "in 'on:') or 'target'/'actions', not both");
  } else if (raise) {
    std::string name;
    if (ReadText(*raise, "'raise' of " + what, &name)) {
      if (!std::regex_match(name, EventNamePattern())) {
        diag_.Error(ValueAt(*raise), "bad-value",
                    "'raise' of " + what + ": " + Quote(name) +
                        " is not an event name (dot-separated words: letters, digits, '_' and '-')");
      } else {
        timer.event = name;
        model_.emits.push_back(EmitRef{name, ValueAt(*raise)});
      }
    }
  } else if (transition) {
    timer.event = TimerEventName(state(s).id, index);
    ParseTransitionMap(item, s, timer.event, timer.location, what, kTimerOwnKeys);
  } else {
    diag_.Error(timer.location, "missing-key",
                what + " does nothing when it fires; give 'target' (take a transition), 'actions', or "
                       "'raise' (raise an event)");
  }
  state(s).timers.push_back(std::move(timer));
}

void Loader::ParseSla(const Entry& e, StateIndex s, const std::string& where) {
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), where, "a map (target, warning, escalations, …)", e.value);
    return;
  }
  for (const auto& t : state(s).timers) {
    if (IsSla(t)) {
      diag_.Error(e.key_at, "duplicate-sla",
                  StateWhere(s) + " already has an SLA (on the state or on its task); a state has one SLA, "
                                  "so merge them");
      return;
    }
  }
  const std::vector<Entry> entries = Entries(e.value);
  bool business = false;
  for (const Entry& x : entries) {
    if (x.key != "business") continue;
    if (!(x.value.IsScalar() && ResolveScalar(x.value) == ScalarType::kBool)) {
      WrongType(ValueAt(x), "'business' of " + where, "true or false", x.value);
      continue;
    }
    business = ToJson(x.value).get<bool>();
  }
  const std::string& id = state(s).id;
  auto add = [&](TimerSpec::Kind kind, const DelaySpec& delay, const std::string& event,
                 std::vector<ActionSpec> actions, const SourceLocation& at, const std::string& level,
                 int base) {
    TimerSpec timer;
    timer.kind = kind;
    timer.delay = delay;
    timer.event = event;
    timer.level = level;
    timer.base_timer = base;
    timer.location = at;
    state(s).timers.push_back(std::move(timer));
    TransitionSpec t;
    t.event = event;
    t.source = s;
    t.location = at;
    t.actions = std::move(actions);
    state(s).transitions.push_back(std::move(t));
  };
  const Entry* target = nullptr;
  const Entry* warning = nullptr;
  std::vector<ActionSpec> on_warning, on_breach;
  bool any = false;
  for (const Entry& x : entries) {
    if (x.key == "target") {
      target = &x;
    } else if (x.key == "warning") {
      warning = &x;
    } else if (x.key == "on_warning") {
      on_warning = ParseActions(x, "'on_warning' of " + where);
    } else if (x.key == "on_breach") {
      on_breach = ParseActions(x, "'on_breach' of " + where);
    } else if (x.key == "business" || x.key == "escalations") {
      continue;
    } else {
      UnknownKey(x, where, kSlaKeys);
    }
  }
  std::optional<DelaySpec> target_delay, warning_delay;
  if (target) target_delay = ParseDelay(target->value, "'target' of " + where, business, false);
  if (warning) {
    warning_delay = ParseDelay(warning->value, "'warning' of " + where, business, false);
    if (!target) {
      diag_.Error(warning->key_at, "missing-key",
                  where + " has a 'warning' but no 'target'; a warning is a time before the target");
    }
    if (warning_delay && target_delay && !warning_delay->business && !target_delay->business &&
        warning_delay->elapsed >= target_delay->elapsed) {
      diag_.Error(ValueAt(*warning), "bad-duration",
                  "'warning' of " + where + " (" + warning_delay->text + ") is not before the 'target' (" +
                      target_delay->text + "); warn earlier than the deadline");
    }
  }
  if (warning_delay) {
    add(TimerSpec::Kind::kSlaWarning, *warning_delay, "sla.warning." + id, std::move(on_warning),
        warning->key_at, "", -1);
    any = true;
  }
  if (target_delay) {
    add(TimerSpec::Kind::kSlaBreach, *target_delay, "sla.breached." + id, std::move(on_breach),
        target->key_at, "", -1);
    any = true;
  }
  for (const Entry& x : entries) {
    if (x.key != "escalations") continue;
    if (!x.value.IsSequence() || x.value.size() == 0) {
      WrongType(ValueAt(x), "'escalations' of " + where,
                "a list of levels, e.g. - {level: L1, after: PT4H, do: [...]}", x.value);
      continue;
    }
    int previous = -1;
    std::set<std::string> levels;
    for (const auto& item : x.value) {
      const std::string what = "an escalation in " + where;
      if (!item.IsMap()) {
        WrongType(At(item), what, "a map (level, after, do)", item);
        continue;
      }
      std::string level;
      std::optional<DelaySpec> after;
      std::vector<ActionSpec> actions;
      bool has_level = false, has_after = false;
      for (const Entry& y : Entries(item)) {
        if (y.key == "level") {
          has_level = ReadText(y, "'level' of " + what, &level);
          if (has_level && !std::regex_match(level, IdentifierPattern())) {
            diag_.Error(ValueAt(y), "bad-value",
                        "'level' of " + what + ": " + Quote(level) +
                            " must be a name (letters, digits, '_'), e.g. L1");
            has_level = false;
          } else if (has_level && !levels.insert(level).second) {
            diag_.Error(ValueAt(y), "bad-value", "escalation level " + Quote(level) + " appears twice in " + where);
          }
        } else if (y.key == "after") {
          has_after = true;
          after = ParseDelay(y.value, "'after' of " + what, business, false);
        } else if (y.key == "do") {
          actions = ParseActions(y, "'do' of " + what);
        } else {
          UnknownKey(y, what, kEscalationKeys);
        }
      }
      if (!has_level) {
        if (level.empty()) {
          diag_.Error(At(item), "missing-key", what + " has no 'level'; name it, e.g. level: L1");
        }
        continue;
      }
      if (!has_after) {
        diag_.Error(At(item), "missing-key",
                    what + " has no 'after'; say how long after the previous level (the first: after "
                           "entering the state) it escalates, e.g. after: PT4H");
        continue;
      }
      if (!after) continue;
      const int index = static_cast<int>(state(s).timers.size());
      add(TimerSpec::Kind::kSlaEscalation, *after, "sla.escalated." + id + "." + level, std::move(actions),
          At(item), level, previous);
      previous = index;
      any = true;
    }
  }
  if (!any && !HasErrors(diag_.items())) {
    diag_.Error(e.key_at, "missing-key", where + " has neither a 'target' nor 'escalations'; give at least one");
  }
}

void Loader::ParseNotify(const Entry& e, ActionSpec* action) {
  const std::string where = "'notify' action";
  if (!e.value.IsMap()) {
    WrongType(ValueAt(e), where, "a map (channel, to, subject, body)", e.value);
    return;
  }
  bool has_channel = false, has_body = false;
  for (const Entry& x : Entries(e.value)) {
    if (x.key == "channel") {
      has_channel = ReadText(x, "'channel' of the " + where, &action->channel);
    } else if (x.key == "to") {
      action->notify_to = ParseValue(x.value, "'to' of the " + where);
    } else if (x.key == "subject" || x.key == "body") {
      std::string text;
      if (!ReadText(x, "'" + x.key + "' of the " + where, &text)) continue;
      if (const std::size_t col = UnbalancedPlaceholder(text)) {
        SourceLocation at = ValueAt(x);
        diag_.Error(at, "bad-template",
                    "'" + x.key + "' of the " + where + ": the placeholder at character " + std::to_string(col) +
                        " is not closed or not opened; write {{context.customer.name}}");
      }
      (x.key == "subject" ? action->subject : action->body) = text;
      if (x.key == "body") has_body = true;
    } else {
      UnknownKey(x, where, kNotifyKeys);
    }
  }
  if (!has_channel) {
    diag_.Error(e.key_at, "missing-key",
                "the " + where + " has no 'channel'; name one of the org's channels, e.g. channel: email");
  }
  if (!has_body) {
    diag_.Error(e.key_at, "missing-key",
                "the " + where + " has no 'body'; write the message, e.g. body: \"Invoice {{context.number}} "
                                 "is overdue\"");
  }
}

}  // namespace nurt::dsl::internal
