#pragma once
// `nurt keys ...`: create, list and manage API keys from the command line (private to nurt_cli;
// RunCli dispatches here). The keys live in the same database as everything else (--db / NURT_DB);
// their hashes are keyed by the master secret file (--secret-file / NURT_SECRET_FILE, default
// "<db>.secret", created on first use).

#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace nurt::cli {

struct KeysInvocation {
  std::vector<std::string> args;                            // after "keys": SUBCOMMAND [ID]
  std::map<std::string, std::vector<std::string>> options;  // every value of every option, in order
  std::string db, org, actor, secret_file;  // already resolved from flags, environment and defaults
  bool json = false;
};

// Exit status as RunCli: 0 done, 1 refused or failed, 2 usage error.
int RunKeysCommand(const KeysInvocation& invocation, std::ostream& out, std::ostream& err);

// The usage lines of `nurt keys`, for the main usage text.
extern const char* const kKeysUsage;

}  // namespace nurt::cli
