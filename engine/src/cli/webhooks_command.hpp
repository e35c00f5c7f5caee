#pragma once
// `nurt webhooks …`: an org's outbound webhook subscriptions, on the store directly (private to
// nurt_cli; docs/webhooks.md). The daemon delivers; the CLI manages and can send a test.
//
//   nurt webhooks [ls]                                    every subscription
//   nurt webhooks create --url URL [--events 'a.*,b'] [--retry exponential|immediate|none]
//                        [--allow-http-loopback] [--reason R]   (the secret is shown once)
//   nurt webhooks pause|resume|rm ID [--reason R]
//   nurt webhooks test ID                                 POST a signed sample now
//   nurt webhooks deliveries ID [--limit N]               the last deliveries, newest first
//
// Exit status as RunCli: 0 done, 1 refused (bad field, unknown webhook, receiver refused the test),
// 2 usage.

#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "nurt/store/store.hpp"

namespace nurt::cli {

struct WebhooksInvocation {
  store::Store* store = nullptr;
  std::string org, actor, secret_file;
  bool json = false;
  std::vector<std::string> args;               // after "webhooks": subcommand, then its arguments
  std::map<std::string, std::string> options;  // --url, --events, --retry, --reason, --limit
  std::set<std::string> flags;                 // --allow-http-loopback
};

// Usage lines of the `webhooks` commands, for the CLI's help.
const char* WebhooksUsage();

int RunWebhooksCommand(const WebhooksInvocation& invocation, std::ostream& out, std::ostream& err);

}  // namespace nurt::cli
