#pragma once
// Generic webhooks: POST a JSON body (WebhookBody) to the channel's URL with
//   Idempotency-Key: <outbox idempotency key>   and, when the channel has secret_env,
//   Standard Webhooks signing (standardwebhooks.com): webhook-id, webhook-timestamp (Unix seconds) and
//   webhook-signature: "v1,<base64 HMAC-SHA256 of `id.timestamp.body`>" under the secret "whsec_<base64>".
// Plus the channel's extra headers. https only (http to loopback with allow_http_loopback), redirects
// not followed, the channel's timeout (default 30 s), 2xx is success. Errors as in sender.hpp.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
#include "nurt/core/time.hpp"
#include "nurt/notify/sender.hpp"

namespace nurt::notify {

std::unique_ptr<Sender> NewWebhookSender(const SenderOptions& options = {});

// {"type": "nurt.notification", "id": <webhook id>, "timestamp": <ISO-8601 of now>, "data": data}
Json WebhookBody(const Notification& notification);

// "msg_" + 32 hex of SHA-256(org + "\n" + idempotency key): the webhook-id, the same on every retry.
std::string WebhookId(const std::string& org, const std::string& idempotency_key);

// "v1,<base64 signature>" for `id.timestamp.body`. `secret` is "whsec_<base64 key>" (a bare base64 key
// is accepted too). InvalidArgument when the key is not base64.
Result<std::string> StandardWebhookSignature(std::string_view secret, std::string_view id,
                                             std::string_view timestamp, std::string_view body);

// The webhook-id, webhook-timestamp and webhook-signature headers for `body` (the timestamp in Unix
// seconds). Errors as StandardWebhookSignature.
Result<std::vector<std::pair<std::string, std::string>>> StandardWebhookHeaders(std::string_view secret,
                                                                                const std::string& id,
                                                                                TimePoint timestamp,
                                                                                std::string_view body);

// One signed POST chosen entirely by the caller (the outbound webhook subscriptions of nurt/webhooks,
// which pick the id, the body and the secret themselves): the three Standard Webhooks headers,
// Idempotency-Key = id, then `headers`. The same rules as the webhook channel: https only (http to
// loopback with allow_http_loopback), no redirects followed, 2xx is success.
struct SignedPost {
  std::string what;              // names the target in messages ("webhook 'x' of org 'acme' (url)")
  std::string url;
  bool allow_http_loopback = false;
  std::string secret;            // "whsec_<base64>"
  std::string id;                // webhook-id: the same on every try
  TimePoint timestamp{};         // webhook-timestamp: the time of this try
  std::string body;              // signed and sent byte for byte
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{30000};
  bool verify_tls = true;        // false: tests only
  std::string ca_file;           // "" = the system's CA bundle
};

struct PostOutcome {
  Status status;          // OK for a 2xx; otherwise the error of sender.hpp (IsRetryable tells)
  int http_status = 0;    // the receiver's status; 0 when no answer came
  std::string response;   // the first 2 KiB of the receiver's answer
};

PostOutcome PostSignedWebhook(const SignedPost& post);

}  // namespace nurt::notify
