#pragma once
// Slack incoming webhooks: POST {"text": <rendered mrkdwn>} to the channel's webhook URL (webhook_url,
// or the URL in the webhook_url_env variable — it is a credential, so messages never show its path).
// https only (http to loopback with allow_http_loopback), redirects not followed, 2xx is success.
// Errors as in sender.hpp (Slack answers 4xx for a revoked hook or bad payload: permanent).

#include <memory>
#include <string>

#include "nurt/notify/sender.hpp"

namespace nurt::notify {

std::unique_ptr<Sender> NewSlackSender(const SenderOptions& options = {});

// The request body: {"text": text} serialised by the JSON library.
std::string SlackBody(const std::string& text);

}  // namespace nurt::notify
