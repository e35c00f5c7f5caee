// `nurt cancel|suspend|resume|force|skip|retry` and `ls --where` (see admin_command.hpp).

#include "cli/admin_command.hpp"

#include <set>

namespace nurt::cli::internal {

bool IsAdminCommand(const std::string& command) {
  static const std::set<std::string> kCommands = {"cancel", "suspend", "resume",
                                                  "force",  "skip",    "retry"};
  return kCommands.count(command) > 0;
}

const char* AdminUsage() {
  return R"(Admin overrides (each needs --reason; kept with --actor in the instance's history):
  cancel ID --reason R                  stop for good (status cancelled, state kept)
  suspend ID --reason R                 refuse events until resumed
  resume ID --reason R                  accept events again
  force ID STATE --reason R             move to STATE (exit/entry actions run, no guard)
  skip ID --reason R                    leave the current state along its only transition
  retry ID --reason R [--patch JSON]    re-apply the failed event, after merging JSON over the data
)";
}

Status CheckAdminArguments(const AdminArguments& args) {
  const std::size_t wanted = args.command == "force" ? 2 : 1;
  if (args.positional.size() != wanted) {
    return Status::InvalidArgument(
        args.command == "force" ? "name the instance and the state to enter" : "name the instance");
  }
  if (!args.reason || args.reason->find_first_not_of(" \t\r\n") == std::string::npos) {
    return Status::InvalidArgument(
        "--reason is required: say why (it is kept in the instance's history)");
  }
  if (args.patch) {
    if (args.command != "retry") return Status::InvalidArgument("--patch is for retry only");
    auto parsed = ParseJson(*args.patch, "--patch");
    if (!parsed.ok()) return parsed.status();
    if (!parsed->is_object()) {
      return Status::InvalidArgument(
          "--patch must be a JSON object of data fields, like "
          "'{\"approved\": true}'");
    }
  }
  return Status::Ok();
}

Result<engine::Outcome> RunAdminCommand(engine::Engine& engine, const AdminArguments& args) {
  engine::AdminRequest req;
  req.org_id = args.org;
  req.instance_id = args.positional.at(0);
  req.actor = args.actor;
  req.reason = args.reason.value_or("");
  req.idempotency_key = args.key;
  const std::string& c = args.command;
  if (c == "cancel") return engine.Cancel(req);
  if (c == "suspend") return engine.Suspend(req);
  if (c == "resume") return engine.Resume(req);
  if (c == "force") return engine.ForceState(req, args.positional.at(1));
  if (c == "skip") return engine.Skip(req);
  Json patch = Json::object();
  if (args.patch) {
    auto parsed = ParseJson(*args.patch, "--patch");
    if (!parsed.ok()) return parsed.status();
    patch = std::move(parsed).value();
  }
  return engine.Retry(req, patch);
}

Result<std::pair<std::string, Json>> ParseWhere(const std::string& text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Status::InvalidArgument(
        "--where needs FIELD=VALUE, like customer.nip=1234567890 (got '" + text + "')");
  }
  const std::string path = text.substr(0, eq);
  const std::string raw = text.substr(eq + 1);
  Json value = raw;
  auto parsed = ParseJson(raw, "--where value");
  if (parsed.ok() && (parsed->is_number() || parsed->is_boolean() || parsed->is_string())) {
    value = std::move(parsed).value();
  }
  return std::make_pair(path, std::move(value));
}

}  // namespace nurt::cli::internal
