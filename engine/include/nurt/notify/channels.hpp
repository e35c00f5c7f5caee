#pragma once
// Per-org notification channels: the `kind: Channels` YAML documents kept in the workflow folders next
// to machines (docs/notifications.md "Channel configuration", schemas/nurt-channels.schema.json).
//
//   apiVersion: nurt/v1
//   kind: Channels
//   org: acme                       # optional, default "default"
//   channels:
//     email:     {type: email, smtp_url: "smtp://mail.acme.pl:587", starttls: required,
//                 username: nurt, password_env: NURT_SMTP_PASSWORD, from: "nurt <nurt@acme.pl>",
//                 to: [ops@acme.pl], throttle: {limit: 100, per: PT1H, policy: queue}}
//     ops-slack: {type: slack, webhook_url_env: NURT_SLACK_URL}
//     crm-hook:  {type: webhook, url: "https://crm.acme.pl/hooks/nurt", secret_env: NURT_CRM_SECRET}
//
// Secrets are named by environment variable only (password_env, secret_env, webhook_url_env) and read
// at send time; an inline `password:`/`secret:` is an error, because these files live in version control.
// Like the machine loader, the channel loader returns every problem with its file:line:col
// (dsl::Diagnostic) instead of stopping at the first.
//
// Thread-safety: plain values and pure functions (the folder loader reads through env::FileSystem).

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nurt/core/result.hpp"
#include "nurt/dsl/diagnostic.hpp"
#include "nurt/env/file_system.hpp"

namespace nurt::notify {

enum class ChannelType { kEmail, kSlack, kWebhook };
enum class StartTls { kRequired, kOptional, kNone };  // CURLUSESSL_ALL / _TRY / _NONE
enum class ThrottlePolicy { kQueue, kDrop };

// At most `limit` notifications delivered per sliding window of `per` on one org's channel.
struct Throttle {
  int limit = 0;
  std::chrono::milliseconds per{0};
  ThrottlePolicy policy = ThrottlePolicy::kQueue;  // queue: wait for room; drop: fail the item
};

struct ChannelConfig {
  std::string name;  // the key under `channels:`, e.g. "ops-slack"
  ChannelType type = ChannelType::kWebhook;
  dsl::SourceLocation location;  // where the channel is defined

  // email
  std::string smtp_url;  // smtp://host[:port] (STARTTLS) or smtps://host[:port] (implicit TLS)
  StartTls starttls = StartTls::kRequired;
  std::string username;  // "" = no AUTH
  std::string password_env;
  std::string from;             // "Name <addr>" or "addr"
  std::vector<std::string> to;  // default recipients ("to" in the item overrides them)

  // slack: one of webhook_url / webhook_url_env (the URL is itself a credential)
  std::string webhook_url;
  std::string webhook_url_env;

  // webhook
  std::string url;
  std::string secret_env;  // Standard Webhooks secret "whsec_<base64>"; "" = unsigned
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers

  // slack and webhook: plain http:// is allowed only to 127.0.0.1, ::1 or localhost, and only when this
  // is set (tests, a local relay). Email: smtp:// without STARTTLS likewise needs a loopback host.
  bool allow_http_loopback = false;

  // all
  std::optional<Throttle> throttle;
  std::chrono::milliseconds timeout{30000};  // whole request/SMTP session
  std::string ca_file;  // PEM bundle to trust instead of the system's ("" = system CAs)
};

// One org's channels, by name.
struct OrgChannels {
  std::string org;
  std::map<std::string, ChannelConfig> channels;
};

// Every org's channels (what the dispatcher is given). Immutable once built; share it.
struct ChannelDirectory {
  std::map<std::string, OrgChannels> orgs;
  // nullptr when the org or channel is unknown.
  const ChannelConfig* Find(const std::string& org, const std::string& channel) const;
  // The names configured for `org` (for "did you mean" and error messages).
  std::vector<std::string> Names(const std::string& org) const;
};

struct ChannelsLoadResult {
  std::optional<OrgChannels> channels;  // nullopt when diagnostics contain an error
  std::vector<dsl::Diagnostic> diagnostics;  // sorted by line, then column
};

// Whether `text` is a `kind: Channels` document (a top-level `kind: Channels` line): how `nurt validate`
// and the folder loader tell channel files from machines.
bool IsChannelsDocument(const std::string& text);

// Reads and validates one document; `file` is used in locations.
ChannelsLoadResult LoadChannelsText(const std::string& text, const std::string& file);

struct ChannelFoldersResult {
  std::shared_ptr<const ChannelDirectory> directory;  // always set; empty when nothing was found
  std::vector<std::string> files;                      // the Channels files read
  std::vector<dsl::Diagnostic> errors;                 // errors of every file (warnings dropped)
};

// Loads every `kind: Channels` file below `folders` (missing folders are skipped). Two files may
// configure the same org, but not the same channel of it (error at the second definition).
// Returns an error only when a folder or file cannot be read.
Result<ChannelFoldersResult> LoadChannelFolders(const std::vector<std::string>& folders,
                                                env::FileSystem* fs);

}  // namespace nurt::notify
