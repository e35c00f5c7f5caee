#pragma once
// nurt::notify::Sender — delivers one rendered notification over one channel (email, Slack, webhook).
//
// The dispatcher renders the templates and hands a sender a Notification; the sender talks to the world
// (libcurl) and answers with a Delivery or a typed error that says what to do next:
//   Unavailable         retryable: connection refused or reset, timeout, DNS failure, HTTP 5xx/408/429,
//                       SMTP 4xx (greylisting, mailbox busy) — try again later;
//   FailedPrecondition  permanent: the receiver refused it (HTTP 4xx other than 408/429, a redirect, SMTP
//                       5xx such as an unknown mailbox or failed AUTH) — sending it again cannot help;
//   InvalidArgument     permanent: the channel cannot be used as configured (a secret's environment
//                       variable is unset, a bad URL, TLS certificate not trusted, STARTTLS not offered).
// Messages name the channel, the endpoint and the server's answer; they never contain a secret.
//
// Thread-safety: a Sender may be used from several threads at once (each send has its own connection).

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
#include "nurt/core/time.hpp"
#include "nurt/notify/channels.hpp"

namespace nurt::notify {

// The outbox kind of notifications (the contract in docs/notifications.md).
inline constexpr const char* kNotifyOutboxKind = "nurt.notify";

// What to deliver: rendered and addressed.
struct Notification {
  std::string org;
  std::string outbox_id;
  std::string idempotency_key;  // stable across retries: Message-ID, webhook-id and Idempotency-Key
                                // derive from it, so a receiver can drop a duplicate
  TimePoint now{};              // the send time (from the injected clock): Date, webhook-timestamp
  std::vector<std::string> to;  // email recipients: the item's "to", else the channel's
  std::string subject;          // email: rendered with Escaping::kEmailHeader
  std::string text;             // the body: email text/plain, Slack "text", webhook data.message
  Json data = Json::object();   // webhook: the body's "data" object (the dispatcher fills it)
};

struct Delivery {
  std::string message_id;  // email: the Message-ID sent (with angle brackets)
  int http_status = 0;     // slack/webhook: the receiver's 2xx status
  int smtp_code = 0;       // email: the server's last reply code (250)
};

// Reads a secret's environment variable by name; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// The process environment (getenv).
EnvLookup ProcessEnvironment();

struct SenderOptions {
  EnvLookup env;            // default (empty): ProcessEnvironment()
  bool verify_tls = true;   // false: accept any certificate (never in production; tests only)
};

class Sender {
 public:
  virtual ~Sender() = default;
  // REQUIRES: channel.type is the sender's type. Errors as described above.
  virtual Result<Delivery> Send(const ChannelConfig& channel, const Notification& notification) = 0;
};

// Whether a Send error is worth retrying later (see above).
inline bool IsRetryable(const Status& status) { return status.IsUnavailable(); }

}  // namespace nurt::notify
