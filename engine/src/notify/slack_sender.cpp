#include "nurt/notify/slack_sender.hpp"

#include "notify/address.hpp"
#include "notify/curl_session.hpp"

namespace nurt::notify {
namespace {

class SlackSender final : public Sender {
 public:
  explicit SlackSender(SenderOptions options) : options_(std::move(options)) {
    if (!options_.env) options_.env = ProcessEnvironment();
  }

  Result<Delivery> Send(const ChannelConfig& channel, const Notification& n) override {
    std::string what = "slack channel '" + channel.name + "'";
    std::string url = channel.webhook_url;
    std::string source = "webhook_url";
    if (!channel.webhook_url_env.empty()) {
      auto value = options_.env(channel.webhook_url_env);
      if (!value || value->empty()) {
        return Status::InvalidArgument(what + ": the environment variable " + channel.webhook_url_env +
                                       " (webhook_url_env) is not set in the daemon's environment; set it "
                                       "to the Slack incoming-webhook URL and restart");
      }
      url = *value;
      source = "the URL in " + channel.webhook_url_env;
    }
    // The URL is a credential: messages name the host, never the path.
    auto parsed = internal::ParseUrl(url);
    if (!parsed.ok()) return Status::InvalidArgument(what + ": " + source + " is not a URL");
    what += " (" + parsed->host + ")";
    if (!internal::CheckHttpUrl(url, channel.allow_http_loopback, "x").ok()) {
      return Status::InvalidArgument(what + ": " + source +
                                     " must be an https:// URL (http:// only to a loopback host with "
                                     "allow_http_loopback: true)");
    }
    NURT_ASSIGN_OR_RETURN(internal::HttpAnswer answer,
                          internal::PostJson(what, url, {}, SlackBody(n.text), channel.timeout,
                                             internal::TlsSettings{channel.ca_file, options_.verify_tls}));
    Delivery d;
    d.http_status = answer.status;
    return d;
  }

 private:
  SenderOptions options_;
};

}  // namespace

std::unique_ptr<Sender> NewSlackSender(const SenderOptions& options) {
  return std::make_unique<SlackSender>(options);
}

std::string SlackBody(const std::string& text) {
  return Json{{"text", text}}.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace nurt::notify
