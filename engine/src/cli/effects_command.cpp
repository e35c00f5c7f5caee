#include "cli/effects_command.hpp"

#include <exception>
#include <memory>

#include "nurt/core/json.hpp"
#include "nurt/effects/effect_admin.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/env/id_generator.hpp"

namespace nurt::cli {
namespace {

std::string Opt(const EffectsCommand& c, const std::string& name, const std::string& def = "") {
  auto it = c.options.find(name);
  return it == c.options.end() ? def : it->second;
}

void PrintEffect(const store::EffectRecord& e, std::ostream& out) {
  const std::string status = e.item.status == "failed" ? "dead" : e.item.status;
  out << e.item.id << "  " << status << "  " << e.item.kind << " " << e.item.payload.value("step", std::string())
      << "  instance " << e.item.instance_id << "  tries " << e.attempts;
  if (e.item.status == "pending") out << "  next " << FormatIso8601(e.next_attempt_at);
  if (e.item.status == "failed") out << "  " << e.item.result.value("reason", std::string());
  if (!e.last_error.empty()) out << "  last error: " << e.last_error;
  out << "\n";
}

int List(const EffectsCommand& c, std::ostream& out, const std::string& status) {
  store::EffectFilter f;
  f.status = status;
  f.adapter = Opt(c, "--adapter");
  f.instance_id = Opt(c, "--instance");
  try {
    f.limit = std::stoi(Opt(c, "--limit", "100"));
  } catch (const std::exception&) {
    return c.usage("--limit is a whole number from 1 to 1000");
  }
  auto rows = c.store->ListEffects(c.org, f);
  if (!rows.ok()) return c.fail(rows.status());
  if (c.json) {
    Json items = Json::array();
    for (const auto& e : *rows) items.push_back(e.ToJson());
    out << Json{{"items", items}}.dump(2) << "\n";
    return 0;
  }
  for (const auto& e : *rows) PrintEffect(e, out);
  out << rows->size() << (rows->size() == 1 ? " effect" : " effects") << "\n";
  return 0;
}

}  // namespace

const char* EffectsUsage() {
  return "  effects [ls] [--status S] [--adapter A] [--instance I]  adapter effects (pending, dead, done)\n"
         "  effects dlq | retry ID | skip ID --reason R | delete ID | retry-all [--adapter A]\n"
         "                                        the dead-letter queue and an operator's (audited) actions\n";
}

int RunEffectsCommand(const EffectsCommand& c, std::ostream& out) {
  const std::string sub = c.positional.empty() ? "ls" : c.positional[0];
  if (sub == "ls") return List(c, out, Opt(c, "--status"));
  if (sub == "dlq") return List(c, out, "dead");
  std::unique_ptr<env::IdGenerator> ids = env::NewUlidGenerator(env::SystemClock());
  effects::EffectAdmin admin(c.store, env::SystemClock(), ids.get());
  const std::string reason = Opt(c, "--reason");
  if (sub == "retry-all") {
    auto retried = admin.RetryAll(c.org, Opt(c, "--adapter"), Opt(c, "--instance"), c.actor, reason);
    if (!retried.ok()) return c.fail(retried.status());
    if (c.json) {
      out << Json{{"retried", retried->size()}, {"ids", *retried}}.dump(2) << "\n";
    } else {
      out << "retried " << retried->size() << (retried->size() == 1 ? " effect" : " effects") << "\n";
    }
    return 0;
  }
  if (sub == "retry" || sub == "skip" || sub == "delete") {
    if (c.positional.size() != 2) return c.usage("name one effect: nurt effects " + sub + " ID");
    auto e = admin.Act(c.org, c.positional[1], sub, c.actor, reason);
    if (!e.ok()) return c.fail(e.status());
    if (c.json) {
      out << (sub == "delete" ? Json{{"id", c.positional[1]}, {"deleted", true}} : e->ToJson()).dump(2) << "\n";
    } else if (sub == "delete") {
      out << "deleted " << c.positional[1] << "\n";
    } else {
      PrintEffect(*e, out);
    }
    return 0;
  }
  return c.usage("unknown effects command '" + sub + "'; use ls, dlq, retry, skip, delete or retry-all");
}

}  // namespace nurt::cli
