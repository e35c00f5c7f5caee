#pragma once
// The admin-override commands of `nurt` (cancel, suspend, resume, force, skip, retry) and the
// `ls --where` filter syntax. Private to the CLI: cli.cpp parses the global options, calls these,
// and prints the Outcome like any other command.
//
// Thread-safety: stateless functions. Errors: InvalidArgument for bad arguments (the CLI prints the
// message with the usage, exit 2); everything else is the engine's answer.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
#include "nurt/engine/engine.hpp"

namespace nurt::cli::internal {

// True for "cancel", "suspend", "resume", "force", "skip", "retry".
bool IsAdminCommand(const std::string& command);

// What the admin commands read from the command line.
struct AdminArguments {
  std::string command;                  // one of IsAdminCommand
  std::vector<std::string> positional;  // ID (force: ID STATE)
  std::optional<std::string> reason;    // --reason (required)
  std::optional<std::string> patch;     // --patch JSON (retry only)
  std::string key;                      // --key
  std::string org;
  std::string actor;
};

// The usage lines of the admin commands, for the CLI's usage text.
const char* AdminUsage();

// Checks the arguments. InvalidArgument (a usage problem: exit 2) when the instance, the state or
// --reason is missing, --patch is not a JSON object or is given to another command.
Status CheckAdminArguments(const AdminArguments& args);

// Runs the command against `engine`. REQUIRES: CheckAdminArguments(args).ok().
Result<engine::Outcome> RunAdminCommand(engine::Engine& engine, const AdminArguments& args);

// One `--where PATH=VALUE`: VALUE is read as JSON when it is a number, true/false or a "quoted
// text", otherwise as plain text (so `customer.nip=123` is the number 123 and
// `customer.nip='"123"'` or `name=Anna` are texts). InvalidArgument without '=' or with an empty
// path.
Result<std::pair<std::string, Json>> ParseWhere(const std::string& text);

}  // namespace nurt::cli::internal
