#pragma once
// Email over SMTP (libcurl): STARTTLS (CURLOPT_USE_SSL per the channel's `starttls`) or smtps://,
// AUTH with the channel's username and the password from its password_env variable, MAIL FROM the
// channel's `from`, RCPT TO each recipient, and an RFC 5322 message (BuildEmailMessage).
//
// Errors (sender.hpp): SMTP 4xx and transport failures are retryable (Unavailable); SMTP 5xx (unknown
// mailbox, relay denied, authentication failed) is FailedPrecondition; an unset password variable, no
// recipients, STARTTLS not offered while required, an untrusted certificate: InvalidArgument.

#include <memory>
#include <string>

#include "nurt/core/result.hpp"
#include "nurt/notify/sender.hpp"

namespace nurt::notify {

std::unique_ptr<Sender> NewEmailSender(const SenderOptions& options = {});

struct EmailMessage {
  std::string message_id;  // "<nurt.<32 hex>@<from domain>>"
  std::string text;        // the whole message, CRLF line ends, ready for DATA
};

// The message as sent: From, To, Subject (RFC 2047 B-encoded when not ASCII; CR/LF removed), Date
// (RFC 5322, UTC, from notification.now), Message-ID (derived from org + idempotency key: the same
// notification always gets the same id, so a receiver can dedupe a resend), MIME-Version,
// Content-Type text/plain; charset=utf-8, Content-Transfer-Encoding quoted-printable,
// Auto-Submitted: auto-generated (RFC 3834: no vacation replies), then the body.
// InvalidArgument for a bad `from` or recipient.
Result<EmailMessage> BuildEmailMessage(const ChannelConfig& channel, const Notification& notification);

}  // namespace nurt::notify
