#include "nurt/notify/webhook_sender.hpp"

#include "notify/address.hpp"
#include "notify/curl_session.hpp"
#include "notify/encoding.hpp"

namespace nurt::notify {
namespace {

// The outbox key when it is a safe header value, else the derived webhook id.
std::string IdempotencyHeader(const Notification& n) {
  if (!n.idempotency_key.empty() && n.idempotency_key.size() <= 255 &&
      internal::IsAsciiPrintable(n.idempotency_key)) {
    return n.idempotency_key;
  }
  return WebhookId(n.org, n.idempotency_key);
}

class WebhookSender final : public Sender {
 public:
  explicit WebhookSender(SenderOptions options) : options_(std::move(options)) {
    if (!options_.env) options_.env = ProcessEnvironment();
  }

  Result<Delivery> Send(const ChannelConfig& channel, const Notification& n) override {
    const std::string what = "webhook channel '" + channel.name + "' (" + channel.url + ")";
    NURT_RETURN_IF_ERROR(internal::CheckHttpUrl(channel.url, channel.allow_http_loopback, what));
    const std::string body = WebhookBody(n).dump(-1, ' ', false, Json::error_handler_t::replace);
    std::vector<std::pair<std::string, std::string>> headers;
    headers.emplace_back("Idempotency-Key", IdempotencyHeader(n));
    if (!channel.secret_env.empty()) {
      auto secret = options_.env(channel.secret_env);
      if (!secret || secret->empty()) {
        return Status::InvalidArgument(what + ": the environment variable " + channel.secret_env +
                                       " (secret_env) is not set in the daemon's environment; set it to "
                                       "the signing secret (whsec_...) and restart");
      }
      auto signing = StandardWebhookHeaders(*secret, WebhookId(n.org, n.idempotency_key), n.now, body);
      if (!signing.ok()) return signing.status().WithContext(what + " (" + channel.secret_env + ")");
      for (auto& h : *signing) headers.push_back(std::move(h));
    }
    for (const auto& h : channel.headers) headers.push_back(h);
    NURT_ASSIGN_OR_RETURN(internal::HttpAnswer answer,
                          internal::PostJson(what, channel.url, headers, body, channel.timeout,
                                             internal::TlsSettings{channel.ca_file, options_.verify_tls}));
    Delivery d;
    d.http_status = answer.status;
    return d;
  }

 private:
  SenderOptions options_;
};

}  // namespace

std::unique_ptr<Sender> NewWebhookSender(const SenderOptions& options) {
  return std::make_unique<WebhookSender>(options);
}

Json WebhookBody(const Notification& n) {
  return Json{{"type", "nurt.notification"},
              {"id", WebhookId(n.org, n.idempotency_key)},
              {"timestamp", FormatIso8601(n.now)},
              {"data", n.data}};
}

std::string WebhookId(const std::string& org, const std::string& idempotency_key) {
  return "msg_" + Sha256Hex(org + "\n" + idempotency_key).substr(0, 32);
}

Result<std::string> StandardWebhookSignature(std::string_view secret, std::string_view id,
                                             std::string_view timestamp, std::string_view body) {
  std::string_view encoded = secret;
  if (encoded.rfind("whsec_", 0) == 0) encoded.remove_prefix(6);
  auto key = internal::Base64Decode(encoded);
  if (!key || key->empty()) {
    return Status::InvalidArgument(
        "the webhook secret is not \"whsec_\" followed by base64 (the Standard Webhooks format); "
        "generate one with: echo whsec_$(openssl rand -base64 32)");
  }
  std::string content;
  content.reserve(id.size() + timestamp.size() + body.size() + 2);
  content.append(id).append(".").append(timestamp).append(".").append(body);
  return "v1," + internal::Base64Encode(internal::HmacSha256(*key, content));
}

Result<std::vector<std::pair<std::string, std::string>>> StandardWebhookHeaders(std::string_view secret,
                                                                                const std::string& id,
                                                                                TimePoint timestamp,
                                                                                std::string_view body) {
  const std::string seconds =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timestamp.time_since_epoch()).count());
  NURT_ASSIGN_OR_RETURN(std::string signature, StandardWebhookSignature(secret, id, seconds, body));
  return std::vector<std::pair<std::string, std::string>>{
      {"webhook-id", id}, {"webhook-timestamp", seconds}, {"webhook-signature", signature}};
}

PostOutcome PostSignedWebhook(const SignedPost& post) {
  PostOutcome out;
  out.status = internal::CheckHttpUrl(post.url, post.allow_http_loopback, post.what);
  if (!out.status.ok()) return out;
  auto signing = StandardWebhookHeaders(post.secret, post.id, post.timestamp, post.body);
  if (!signing.ok()) {
    out.status = signing.status().WithContext(post.what);
    return out;
  }
  std::vector<std::pair<std::string, std::string>> headers = std::move(signing).value();
  headers.emplace_back("Idempotency-Key", post.id);
  for (const auto& h : post.headers) headers.push_back(h);
  auto answer = internal::PostJsonAnswer(post.what, post.url, headers, post.body, post.timeout,
                                         internal::TlsSettings{post.ca_file, post.verify_tls});
  if (!answer.ok()) {
    out.status = answer.status();
    return out;
  }
  out.http_status = answer->status;
  out.response = answer->body;
  out.status = internal::AnswerStatus(post.what, *answer);
  return out;
}

}  // namespace nurt::notify
