// The `kind: Channels` loader: a valid file becomes typed channel configs; every mistake is reported
// with its file:line:col, a rule id and a message saying what to write (inline secrets refused, plain
// http only to loopback when allowed, throttles, did-you-mean); folders merge files per org.

#include "nurt/notify/channels.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "temp_dir.hpp"

namespace nurt::notify {
namespace {

using ::testing::HasSubstr;

const char* kValid = R"(apiVersion: nurt/v1
kind: Channels
org: acme
channels:
  email:
    type: email
    smtp_url: "smtp://mail.acme.pl:587"
    starttls: required
    username: nurt
    password_env: NURT_SMTP_PASSWORD
    from: "nurt <nurt@acme.pl>"
    to: [ops@acme.pl, "Księgowość <ksiegowosc@acme.pl>"]
    throttle: {limit: 100, per: PT1H, policy: drop}
  ops-slack: {type: slack, webhook_url_env: NURT_SLACK_URL}
  crm-hook:
    type: webhook
    url: "http://127.0.0.1:9000/hooks"
    allow_http_loopback: true
    secret_env: NURT_CRM_SECRET
    headers: {X-Tenant: acme}
    timeout: PT5S
)";

std::string Render(const std::vector<dsl::Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) out += d.ToString() + "\n";
  return out;
}

// The diagnostics of `text` as "line:col rule" plus messages, for compact assertions.
ChannelsLoadResult Load(const std::string& text) { return LoadChannelsText(text, "channels.yaml"); }

std::string Channels(const std::string& body) {
  return "apiVersion: nurt/v1\nkind: Channels\nchannels:\n" + body;
}

TEST(ChannelsTest, LoadsEveryTypeWithItsSettings) {
  const ChannelsLoadResult r = Load(kValid);
  ASSERT_TRUE(r.channels) << Render(r.diagnostics);
  EXPECT_TRUE(r.diagnostics.empty()) << Render(r.diagnostics);
  EXPECT_EQ(r.channels->org, "acme");
  ASSERT_EQ(r.channels->channels.size(), 3u);
  const ChannelConfig& email = r.channels->channels.at("email");
  EXPECT_EQ(email.type, ChannelType::kEmail);
  EXPECT_EQ(email.smtp_url, "smtp://mail.acme.pl:587");
  EXPECT_EQ(email.starttls, StartTls::kRequired);
  EXPECT_EQ(email.username, "nurt");
  EXPECT_EQ(email.password_env, "NURT_SMTP_PASSWORD");
  EXPECT_EQ(email.to, (std::vector<std::string>{"ops@acme.pl", "Księgowość <ksiegowosc@acme.pl>"}));
  ASSERT_TRUE(email.throttle);
  EXPECT_EQ(email.throttle->limit, 100);
  EXPECT_EQ(email.throttle->per, std::chrono::hours(1));
  EXPECT_EQ(email.throttle->policy, ThrottlePolicy::kDrop);
  EXPECT_EQ(email.location.ToString(), "channels.yaml:5:3");
  EXPECT_EQ(r.channels->channels.at("ops-slack").webhook_url_env, "NURT_SLACK_URL");
  const ChannelConfig& hook = r.channels->channels.at("crm-hook");
  EXPECT_EQ(hook.url, "http://127.0.0.1:9000/hooks");
  EXPECT_TRUE(hook.allow_http_loopback);
  EXPECT_EQ(hook.headers, (std::vector<std::pair<std::string, std::string>>{{"X-Tenant", "acme"}}));
  EXPECT_EQ(hook.timeout, std::chrono::seconds(5));
  EXPECT_FALSE(hook.throttle);
}

TEST(ChannelsTest, OrgDefaultsToDefault) {
  const auto r = Load(Channels("  hook: {type: webhook, url: \"https://x.example/h\"}\n"));
  ASSERT_TRUE(r.channels) << Render(r.diagnostics);
  EXPECT_EQ(r.channels->org, "default");
}

TEST(ChannelsTest, InlinePasswordIsRefusedWithTheReasonAndThePlace) {
  const auto r = Load(Channels(
      "  email:\n    type: email\n    smtp_url: smtps://mail.example.pl\n    from: a@example.pl\n"
      "    username: nurt\n    password: hunter2\n    password_env: P\n"));
  EXPECT_FALSE(r.channels);
  ASSERT_EQ(r.diagnostics.size(), 1u) << Render(r.diagnostics);
  const auto& d = r.diagnostics[0];
  EXPECT_EQ(d.location.ToString(), "channels.yaml:9:5");
  EXPECT_EQ(d.rule_id, "inline-secret");
  EXPECT_THAT(d.message, HasSubstr("version control"));
  EXPECT_THAT(d.message, HasSubstr("password_env"));
  // A webhook secret likewise, and a credential-looking header.
  const auto w = Load(Channels("  hook:\n    type: webhook\n    url: https://x.example/h\n    secret: s3\n"
                               "    headers: {Authorization: Bearer x}\n"));
  ASSERT_EQ(w.diagnostics.size(), 2u) << Render(w.diagnostics);
  EXPECT_EQ(w.diagnostics[0].location.ToString(), "channels.yaml:7:5");
  EXPECT_THAT(w.diagnostics[0].message, HasSubstr("secret_env"));
  EXPECT_EQ(w.diagnostics[1].rule_id, "inline-secret");
  EXPECT_EQ(w.diagnostics[1].location.ToString(), "channels.yaml:8:15");
}

TEST(ChannelsTest, PlainHttpOnlyToLoopbackAndOnlyWhenAllowed) {
  auto r = Load(Channels("  hook: {type: webhook, url: \"http://crm.example.pl/h\", allow_http_loopback: true}\n"));
  ASSERT_EQ(r.diagnostics.size(), 1u) << Render(r.diagnostics);
  EXPECT_EQ(r.diagnostics[0].location.ToString(), "channels.yaml:4:30");
  EXPECT_THAT(r.diagnostics[0].message, HasSubstr("use https://"));

  r = Load(Channels("  hook: {type: webhook, url: \"http://127.0.0.1:8080/h\"}\n"));
  ASSERT_EQ(r.diagnostics.size(), 1u) << Render(r.diagnostics);
  EXPECT_THAT(r.diagnostics[0].message, HasSubstr("needs allow_http_loopback: true"));

  r = Load(Channels("  s: {type: slack, webhook_url: \"http://[::1]:8080/h\", allow_http_loopback: true}\n"));
  EXPECT_TRUE(r.channels) << Render(r.diagnostics);

  r = Load(Channels("  s: {type: slack, webhook_url: \"ftp://hooks.slack.com/x\"}\n"));
  ASSERT_EQ(r.diagnostics.size(), 1u) << Render(r.diagnostics);
  EXPECT_THAT(r.diagnostics[0].message, HasSubstr("must be an https:// URL"));
}

TEST(ChannelsTest, SmtpWithoutTlsOnlyToALoopbackRelay) {
  auto r = Load(Channels("  e: {type: email, smtp_url: \"smtp://mail.example.pl\", starttls: none, "
                         "from: a@example.pl}\n"));
  ASSERT_EQ(r.diagnostics.size(), 1u) << Render(r.diagnostics);
  EXPECT_EQ(r.diagnostics[0].location.ToString(), "channels.yaml:4:66");
  EXPECT_THAT(r.diagnostics[0].message, HasSubstr("unencrypted"));
  r = Load(Channels("  e: {type: email, smtp_url: \"smtp://127.0.0.1:2525\", starttls: none, from: a@x.pl}\n"));
  EXPECT_TRUE(r.channels) << Render(r.diagnostics);
  r = Load(Channels("  e: {type: email, smtp_url: \"http://mail.example.pl\", from: a@x.pl}\n"));
  ASSERT_EQ(r.diagnostics.size(), 1u) << Render(r.diagnostics);
  EXPECT_THAT(r.diagnostics[0].message, HasSubstr("smtp_url must start with smtp://"));
}

TEST(ChannelsTest, EveryProblemIsReportedWithItsPlaceAndAHint) {
  const auto r = Load(R"(apiVersion: nurt/v1
kind: Channels
chanels: {}
channels:
  email:
    type: emial
  Bad_Name: {type: slack, webhook_url_env: "not a name"}
  hook:
    type: webhook
    url: https://x.example/h
    secret_env: S
    retries: 3
    throttle: {limit: 0, per: P1M, policy: later}
  mail:
    type: email
    smtp_url: smtps://m.example.pl
    from: "nobody"
    to: [ok@example.pl, "bad address"]
    username: u
)");
  EXPECT_FALSE(r.channels);
  const std::string all = Render(r.diagnostics);
  EXPECT_THAT(all, HasSubstr("channels.yaml:3:1: error: unknown key 'chanels' in the channel file; did you "
                             "mean 'channels'? [unknown-key]"));
  EXPECT_THAT(all, HasSubstr("channels.yaml:6:11: error: channel 'email' has type 'emial'; did you mean "
                             "'email'?"));
  EXPECT_THAT(all, HasSubstr("channels.yaml:7:3: error: channel name 'Bad_Name' must start"));
  EXPECT_THAT(all, HasSubstr("channels.yaml:7:44: error: channel 'Bad_Name' webhook_url_env names an "
                             "environment variable"));
  EXPECT_THAT(all, HasSubstr("channels.yaml:12:5: error: unknown key 'retries' in channel 'hook' (type "
                             "webhook); the keys allowed here are:"));
  EXPECT_THAT(all, HasSubstr("channels.yaml:13:23: error: channel 'hook' throttle limit must be from 1 to "
                             "1000000, not 0"));
  EXPECT_THAT(all, HasSubstr("channels.yaml:13:31: error: channel 'hook' throttle per: 'P1M'"));
  EXPECT_THAT(all, HasSubstr("channels.yaml:13:44: error: channel 'hook' throttle policy is 'later'"));
  EXPECT_THAT(all, HasSubstr("channels.yaml:17:11: error: channel 'mail' from: 'nobody' is not an email"));
  EXPECT_THAT(all, HasSubstr("channels.yaml:18:25: error: channel 'mail' to: 'bad address' is not an email"));
  EXPECT_THAT(all, HasSubstr("channels.yaml:19:15: error: channel 'mail' has a username but no "
                             "password_env"));
}

TEST(ChannelsTest, MissingKeysAndSyntaxErrors) {
  auto r = Load("apiVersion: nurt/v1\nkind: Channels\n");
  ASSERT_EQ(r.diagnostics.size(), 1u) << Render(r.diagnostics);
  EXPECT_EQ(r.diagnostics[0].rule_id, "missing-key");
  EXPECT_THAT(r.diagnostics[0].message, HasSubstr("no 'channels'"));

  r = Load(Channels("  s: {type: slack}\n  h: {url: https://x.example}\n"));
  ASSERT_EQ(r.diagnostics.size(), 2u) << Render(r.diagnostics);
  EXPECT_THAT(r.diagnostics[0].message, HasSubstr("exactly one of webhook_url_env"));
  EXPECT_EQ(r.diagnostics[1].location.ToString(), "channels.yaml:5:3");
  EXPECT_THAT(r.diagnostics[1].message, HasSubstr("has no 'type'"));

  r = Load("apiVersion: nurt/v1\nkind: Channels\nchannels:\n  a: {type: slack\n");
  ASSERT_EQ(r.diagnostics.size(), 1u) << Render(r.diagnostics);
  EXPECT_EQ(r.diagnostics[0].rule_id, "yaml-syntax");
  EXPECT_GT(r.diagnostics[0].location.line, 0);
}

TEST(ChannelsTest, RecognisesChannelDocuments) {
  EXPECT_TRUE(IsChannelsDocument(kValid));
  EXPECT_TRUE(IsChannelsDocument("apiVersion: nurt/v1\nkind: \"Channels\"  # notifications\n"));
  EXPECT_FALSE(IsChannelsDocument("apiVersion: nurt/v1\nkind: Machine\n"));
  EXPECT_FALSE(IsChannelsDocument("states:\n  a:\n    kind: Channels\n"));
}

TEST(ChannelsTest, FoldersMergeOrgsAndRefuseAChannelConfiguredTwice) {
  testing::TempDir dir;
  std::ofstream(dir.File("a.yaml")) << kValid;
  std::ofstream(dir.File("b.yaml")) << "apiVersion: nurt/v1\nkind: Channels\norg: acme\nchannels:\n"
                                       "  ops-slack: {type: slack, webhook_url_env: OTHER}\n"
                                       "  second: {type: slack, webhook_url_env: SECOND}\n";
  std::ofstream(dir.File("c.yaml")) << Channels("  hook: {type: webhook, url: \"https://x.example/h\"}\n");
  std::ofstream(dir.File("machine.yaml")) << "apiVersion: nurt/v1\nkind: Machine\nname: x\n";
  auto r = LoadChannelFolders({dir.path(), dir.File("missing")}, env::LocalFileSystem());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->files.size(), 3u);
  ASSERT_EQ(r->errors.size(), 1u) << Render(r->errors);
  EXPECT_EQ(r->errors[0].rule_id, "duplicate-channel");
  EXPECT_EQ(r->errors[0].location.ToString(), dir.File("b.yaml") + ":5:3");
  EXPECT_THAT(r->errors[0].message, HasSubstr("already defined at " + dir.File("a.yaml") + ":14:3"));
  EXPECT_NE(r->directory->Find("acme", "second"), nullptr);
  EXPECT_EQ(r->directory->Find("acme", "ops-slack")->webhook_url_env, "NURT_SLACK_URL");
  EXPECT_NE(r->directory->Find("default", "hook"), nullptr);
  EXPECT_EQ(r->directory->Find("default", "email"), nullptr);
  EXPECT_EQ(r->directory->Names("acme"), (std::vector<std::string>{"crm-hook", "email", "ops-slack", "second"}));
}

}  // namespace
}  // namespace nurt::notify
