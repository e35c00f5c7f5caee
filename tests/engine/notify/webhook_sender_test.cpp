// Webhook and Slack senders against a real HTTP receiver on loopback: bodies built as JSON, Standard
// Webhooks signatures (checked against the published vector in /work/shared/fixtures/webhooks and by
// re-verifying what the receiver got), Idempotency-Key, statuses mapped to retryable/permanent,
// redirects not followed, secrets never in messages.

#include "nurt/notify/webhook_sender.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "notify/encoding.hpp"
#include "notify_test_util.hpp"
#include "nurt/notify/slack_sender.hpp"

namespace nurt::notify {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Json Vectors() {
  return Json::parse(testing::ReadFileText(std::string(NURT_SHARED_ROOT) +
                                           "/fixtures/webhooks/signature-vectors.json"));
}

TEST(WebhookSignatureTest, MatchesTheStandardWebhooksVector) {
  const Json v = Vectors()["standard_webhooks_v1"];
  auto sig = StandardWebhookSignature(v["secret"].get<std::string>(),
                                      v["headers"]["webhook-id"].get<std::string>(),
                                      v["headers"]["webhook-timestamp"].get<std::string>(),
                                      v["body"].get<std::string>());
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(*sig, v["expected_webhook_signature"].get<std::string>());
  // The bare base64 key (without "whsec_") signs the same.
  const std::string secret = v["secret"].get<std::string>().substr(6);
  EXPECT_EQ(*StandardWebhookSignature(secret, v["headers"]["webhook-id"].get<std::string>(),
                                      v["headers"]["webhook-timestamp"].get<std::string>(),
                                      v["body"].get<std::string>()),
            *sig);
  // A different body, id or timestamp gives a different signature.
  EXPECT_NE(*StandardWebhookSignature(v["secret"].get<std::string>(), "msg_x", "1614265330",
                                      v["body"].get<std::string>()),
            *sig);
  auto bad = StandardWebhookSignature("whsec_not base64!", "id", "1", "{}");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("openssl rand -base64 32"));
}

TEST(WebhookSignatureTest, HmacMatchesTheGithubVector) {
  const Json v = Vectors()["github_x_hub_signature_256"];
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned char c :
       internal::HmacSha256(v["secret"].get<std::string>(), v["body"].get<std::string>())) {
    hex += kHex[c >> 4];
    hex += kHex[c & 0xF];
  }
  EXPECT_EQ("sha256=" + hex, v["expected_x_hub_signature_256"].get<std::string>());
}

class HttpSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hook_.name = "crm-hook";
    hook_.type = ChannelType::kWebhook;
    hook_.url = receiver_.Url("/hooks/nurt");
    hook_.allow_http_loopback = true;
    hook_.secret_env = "NURT_TEST_HOOK_SECRET";
    hook_.headers = {{"X-Tenant", "acme"}};
    hook_.timeout = std::chrono::seconds(10);

    slack_.name = "ops-slack";
    slack_.type = ChannelType::kSlack;
    slack_.webhook_url_env = "NURT_TEST_SLACK_URL";
    slack_.allow_http_loopback = true;
    slack_.timeout = std::chrono::seconds(10);

    n_.org = "acme";
    n_.outbox_id = "01JOUTBOX";
    n_.idempotency_key = "inv-7:3:notify:0";
    n_.now = FromUnixMillis(1'767'258'305'123);
    n_.text = "Faktura *FV/1* opłacona: &lt;ok&gt; \"cytat\"";
    n_.data = {{"channel", "crm-hook"}, {"message", n_.text}, {"vars", {{"amount", 1234.5}}}};
  }

  SenderOptions Options() {
    SenderOptions o;
    o.env = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    return o;
  }

  testing::HttpReceiver receiver_;
  std::map<std::string, std::string> env_ = {
      {"NURT_TEST_HOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
      {"NURT_TEST_SLACK_URL", receiver_.Url("/services/T000/B000/XXXXSECRETXXXX")}};
  ChannelConfig hook_, slack_;
  Notification n_;
};

TEST_F(HttpSenderTest, WebhookPostsSignedJsonWithAnIdempotencyKey) {
  auto d = NewWebhookSender(Options())->Send(hook_, n_);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->http_status, 200);
  const auto got = receiver_.received();
  ASSERT_EQ(got.size(), 1u);
  const auto& r = got[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/hooks/nurt");
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_EQ(r.Header("Idempotency-Key"), "inv-7:3:notify:0");
  EXPECT_EQ(r.Header("X-Tenant"), "acme");
  const Json body = Json::parse(r.body);
  EXPECT_EQ(body["type"], "nurt.notification");
  EXPECT_EQ(body["id"], WebhookId("acme", "inv-7:3:notify:0"));
  EXPECT_EQ(body["timestamp"], "2026-01-01T09:05:05.123Z");
  EXPECT_EQ(body["data"], n_.data);
  // The receiver can verify the signature over exactly the bytes it got.
  EXPECT_EQ(r.Header("webhook-id"), body["id"]);
  EXPECT_EQ(r.Header("webhook-timestamp"), "1767258305");
  EXPECT_EQ(r.Header("webhook-signature"),
            *StandardWebhookSignature(env_["NURT_TEST_HOOK_SECRET"], r.Header("webhook-id"),
                                      r.Header("webhook-timestamp"), r.body));
  // The same notification sent again carries the same ids (the receiver dedupes).
  ASSERT_TRUE(NewWebhookSender(Options())->Send(hook_, n_).ok());
  EXPECT_EQ(receiver_.received()[1].Header("webhook-id"), r.Header("webhook-id"));
  EXPECT_EQ(receiver_.received()[1].Header("Idempotency-Key"), r.Header("Idempotency-Key"));
}

TEST_F(HttpSenderTest, WebhookWithoutSecretIsUnsignedAndAMissingSecretVariableIsAConfigError) {
  hook_.secret_env.clear();
  ASSERT_TRUE(NewWebhookSender(Options())->Send(hook_, n_).ok());
  EXPECT_EQ(receiver_.received()[0].Header("webhook-signature"), "");

  hook_.secret_env = "NURT_TEST_UNSET";
  auto r = NewWebhookSender(Options())->Send(hook_, n_);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_THAT(r.status().message(), HasSubstr("NURT_TEST_UNSET (secret_env) is not set"));
  EXPECT_EQ(receiver_.received().size(), 1u);
}

TEST_F(HttpSenderTest, StatusesMapToRetryableOrPermanentAndRedirectsAreNotFollowed) {
  receiver_.Script({503, 429, 408, 400, 410, 302});
  auto sender = NewWebhookSender(Options());
  for (int status : {503, 429, 408}) {
    auto r = sender->Send(hook_, n_);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(IsRetryable(r.status())) << status << ": " << r.status();
    EXPECT_THAT(r.status().message(), HasSubstr("HTTP " + std::to_string(status)));
  }
  for (int status : {400, 410}) {
    auto r = sender->Send(hook_, n_);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsFailedPrecondition()) << status << ": " << r.status();
  }
  auto redirect = sender->Send(hook_, n_);
  ASSERT_FALSE(redirect.ok());
  EXPECT_TRUE(redirect.status().IsFailedPrecondition());
  EXPECT_THAT(redirect.status().message(), HasSubstr("redirects are not followed"));
  EXPECT_THAT(redirect.status().message(), HasSubstr("https://elsewhere.example/"));
  EXPECT_EQ(receiver_.received().size(), 6u);  // the redirect target was never asked

  hook_.url = "http://127.0.0.1:1/x";
  auto refused = sender->Send(hook_, n_);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(IsRetryable(refused.status())) << refused.status();
}

TEST_F(HttpSenderTest, PlainHttpElsewhereIsRefusedBeforeAnythingIsSent) {
  hook_.allow_http_loopback = false;
  auto r = NewWebhookSender(Options())->Send(hook_, n_);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_TRUE(receiver_.received().empty());
}

TEST_F(HttpSenderTest, SlackPostsTextAndNeverShowsTheSecretUrl) {
  auto d = NewSlackSender(Options())->Send(slack_, n_);
  ASSERT_TRUE(d.ok()) << d.status();
  const auto got = receiver_.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].path, "/services/T000/B000/XXXXSECRETXXXX");
  EXPECT_EQ(Json::parse(got[0].body), (Json{{"text", n_.text}}));
  EXPECT_EQ(got[0].Header("Content-Type"), "application/json");

  receiver_.Script({404});
  auto gone = NewSlackSender(Options())->Send(slack_, n_);
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(gone.status().IsFailedPrecondition());
  EXPECT_THAT(gone.status().message(), HasSubstr("slack channel 'ops-slack' (127.0.0.1)"));
  EXPECT_THAT(gone.status().message(), Not(HasSubstr("SECRET")));

  env_.erase("NURT_TEST_SLACK_URL");
  auto unset = NewSlackSender(Options())->Send(slack_, n_);
  ASSERT_FALSE(unset.ok());
  EXPECT_THAT(unset.status().message(), HasSubstr("NURT_TEST_SLACK_URL (webhook_url_env) is not set"));

  env_["NURT_TEST_SLACK_URL"] = "http://hooks.example.com/services/SECRET";
  auto plain = NewSlackSender(Options())->Send(slack_, n_);
  ASSERT_FALSE(plain.ok());
  EXPECT_THAT(plain.status().message(), HasSubstr("must be an https:// URL"));
  EXPECT_THAT(plain.status().message(), Not(HasSubstr("SECRET")));
}

TEST(SlackBodyTest, IsJsonBuiltByTheLibrary) {
  EXPECT_EQ(SlackBody("a \"b\"\n<c>"), R"({"text":"a \"b\"\n<c>"})");
}

}  // namespace
}  // namespace nurt::notify
