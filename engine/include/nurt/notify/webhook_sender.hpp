#pragma once
// Generic webhooks: POST a JSON body (WebhookBody) to the channel's URL with
//   Idempotency-Key: <outbox idempotency key>   and, when the channel has secret_env,
//   Standard Webhooks signing (standardwebhooks.com): webhook-id, webhook-timestamp (Unix seconds) and
//   webhook-signature: "v1,<base64 HMAC-SHA256 of `id.timestamp.body`>" under the secret "whsec_<base64>".
// Plus the channel's extra headers. https only (http to loopback with allow_http_loopback), redirects
// not followed, the channel's timeout (default 30 s), 2xx is success. Errors as in sender.hpp.

#include <memory>
#include <string>
#include <string_view>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
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

}  // namespace nurt::notify
