// EmailSender against a real SMTP server (aiosmtpd, started by the test on a loopback port) that
// requires STARTTLS and AUTH: the received message is parsed by Python's email package and its headers,
// RFC 2047 subject, quoted-printable body and envelope are checked; refusals are typed (4xx retryable,
// 5xx permanent), and so are a missing password variable, a wrong password and an untrusted certificate.

#include "nurt/notify/email_sender.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "notify/encoding.hpp"
#include "notify_test_util.hpp"

namespace nurt::notify {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

class EmailSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::MakeSelfSignedCert(certs_);
    smtp_ = std::make_unique<testing::SmtpTestServer>(
        inbox_.path(), testing::SmtpTestServer::Options{certs_.File("cert.pem"), certs_.File("key.pem"),
                                                        "nurt", "s3cret-hasło"});
    channel_.name = "email";
    channel_.type = ChannelType::kEmail;
    channel_.smtp_url = "smtp://127.0.0.1:" + std::to_string(smtp_->port());
    channel_.starttls = StartTls::kRequired;
    channel_.username = "nurt";
    channel_.password_env = "NURT_TEST_SMTP_PASSWORD";
    channel_.from = "Nurt Powiadomienia <nurt@firma.pl>";
    channel_.to = {"ops@firma.pl"};
    channel_.ca_file = certs_.File("cert.pem");
    channel_.timeout = std::chrono::seconds(10);

    notification_.org = "acme";
    notification_.outbox_id = "01JOUTBOX";
    notification_.idempotency_key = "inv-7:3:notify:0";
    notification_.now = FromUnixMillis(1'767'258'305'000);  // 2026-01-01T09:05:05Z, a Thursday
    notification_.to = {"Zażółć Gęślą <jazn@firma.pl>", "b@firma.pl"};
    notification_.subject = "Płatność przyjęta: faktura FV/2026/001 — 1 234,50 zł";
    notification_.text =
        "Dzień dobry,\nfaktura FV/2026/001 została opłacona.\n.\nKwota = 1234.50 zł\n" +
        std::string(90, 'x') + "\nkoniec  \n";
  }

  std::unique_ptr<Sender> MakeSender() {
    SenderOptions o;
    o.env = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    return NewEmailSender(o);
  }

  nurt::testing::TempDir certs_, inbox_;
  std::unique_ptr<testing::SmtpTestServer> smtp_;
  std::map<std::string, std::string> env_ = {{"NURT_TEST_SMTP_PASSWORD", "s3cret-hasło"}};
  ChannelConfig channel_;
  Notification notification_;
};

TEST_F(EmailSenderTest, DeliversOverStartTlsWithAuthAProperMessage) {
  auto sender = MakeSender();
  auto d = sender->Send(channel_, notification_);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->smtp_code, 250);
  EXPECT_THAT(d->message_id, MatchesRegex("<nurt\\.[0-9a-f]{32}@firma\\.pl>"));

  ASSERT_EQ(smtp_->Count(), 1);
  const Json m = smtp_->Message(1);
  EXPECT_TRUE(m["tls"].get<bool>()) << "the message must travel after STARTTLS";
  EXPECT_EQ(m["login"], "nurt");
  EXPECT_EQ(m["mail_from"], "nurt@firma.pl");
  EXPECT_EQ(m["rcpt_tos"], Json::parse(R"(["jazn@firma.pl", "b@firma.pl"])"));
  const Json& h = m["headers"];
  EXPECT_EQ(h["Subject"], notification_.subject);  // decoded back exactly, Polish characters included
  EXPECT_EQ(h["From"], "Nurt Powiadomienia <nurt@firma.pl>");
  EXPECT_EQ(h["To"], "Zażółć Gęślą <jazn@firma.pl>, b@firma.pl");
  EXPECT_EQ(h["Date"], "Thu, 01 Jan 2026 09:05:05 +0000");
  EXPECT_EQ(h["Message-ID"], d->message_id);
  EXPECT_EQ(h["MIME-Version"], "1.0");
  EXPECT_EQ(h["Auto-Submitted"], "auto-generated");
  EXPECT_EQ(m["content_type"], "text/plain");
  EXPECT_EQ(m["charset"], "utf-8");
  EXPECT_EQ(m["cte"], "quoted-printable");
  // The raw Subject is RFC 2047 encoded words (no 8-bit header), every line within 78 characters.
  EXPECT_THAT(m["raw_headers"]["Subject"].get<std::string>(), StartsWith("=?UTF-8?B?"));
  const std::string raw = smtp_->Raw(1);
  std::size_t start = 0;
  while (start < raw.size()) {
    const std::size_t end = raw.find("\r\n", start);
    const std::size_t len = (end == std::string::npos ? raw.size() : end) - start;
    EXPECT_LE(len, 78u) << raw.substr(start, len);
    if (end == std::string::npos) break;
    start = end + 2;
  }
  for (unsigned char c : raw) EXPECT_LT(c, 0x80) << "the message must be 7-bit on the wire";
  // The body decodes back to the text with CRLF line ends (as on the wire), the lone '.' line intact.
  std::string expected;
  for (char c : notification_.text) expected += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(m["body"], expected);
}

TEST_F(EmailSenderTest, SameNotificationGetsTheSameMessageIdSoResendsCanBeDeduped) {
  auto a = BuildEmailMessage(channel_, notification_);
  auto b = BuildEmailMessage(channel_, notification_);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->message_id, b->message_id);
  Notification other = notification_;
  other.idempotency_key = "inv-7:4:notify:0";
  EXPECT_NE(BuildEmailMessage(channel_, other)->message_id, a->message_id);
  other = notification_;
  other.org = "globex";
  EXPECT_NE(BuildEmailMessage(channel_, other)->message_id, a->message_id);
}

TEST_F(EmailSenderTest, SubjectLineBreaksCannotInjectHeaders) {
  notification_.subject = "Hi\r\nBcc: victim@evil.example\r\nX-Injected: 1";
  notification_.to = {"a@firma.pl"};
  auto d = MakeSender()->Send(channel_, notification_);
  ASSERT_TRUE(d.ok()) << d.status();
  const Json m = smtp_->Message(1);
  EXPECT_EQ(m["headers"]["Subject"], "Hi Bcc: victim@evil.example X-Injected: 1");
  EXPECT_FALSE(m["headers"].contains("Bcc"));
  EXPECT_FALSE(m["headers"].contains("X-Injected"));
  EXPECT_EQ(m["rcpt_tos"], Json::parse(R"(["a@firma.pl"])"));
}

TEST_F(EmailSenderTest, ChannelRecipientsAreTheDefault) {
  notification_.to.clear();
  ASSERT_TRUE(MakeSender()->Send(channel_, notification_).ok());
  EXPECT_EQ(smtp_->Message(1)["rcpt_tos"], Json::parse(R"(["ops@firma.pl"])"));
}

TEST_F(EmailSenderTest, SmtpRefusalsAreTypedTemporaryOrPermanent) {
  auto sender = MakeSender();
  notification_.to = {"busy@firma.pl"};
  auto busy = sender->Send(channel_, notification_);
  ASSERT_FALSE(busy.ok());
  EXPECT_TRUE(IsRetryable(busy.status())) << busy.status();
  EXPECT_THAT(busy.status().message(), HasSubstr("450"));

  notification_.to = {"nobody@firma.pl"};
  auto nobody = sender->Send(channel_, notification_);
  ASSERT_FALSE(nobody.ok());
  EXPECT_TRUE(nobody.status().IsFailedPrecondition()) << nobody.status();
  EXPECT_THAT(nobody.status().message(), HasSubstr("550"));
  EXPECT_EQ(smtp_->Count(), 0);
}

TEST_F(EmailSenderTest, WrongPasswordIsPermanentAndMissingVariableIsAConfigError) {
  env_["NURT_TEST_SMTP_PASSWORD"] = "wrong";
  auto denied = MakeSender()->Send(channel_, notification_);
  ASSERT_FALSE(denied.ok());
  EXPECT_FALSE(IsRetryable(denied.status())) << denied.status();
  EXPECT_THAT(denied.status().message(), HasSubstr("535"));
  EXPECT_THAT(denied.status().message(), ::testing::Not(HasSubstr("wrong")));

  env_.clear();
  auto unset = MakeSender()->Send(channel_, notification_);
  ASSERT_FALSE(unset.ok());
  EXPECT_TRUE(unset.status().IsInvalidArgument()) << unset.status();
  EXPECT_THAT(unset.status().message(), HasSubstr("NURT_TEST_SMTP_PASSWORD (password_env) is not set"));
  EXPECT_EQ(smtp_->Count(), 0);
}

TEST_F(EmailSenderTest, UntrustedCertificateIsRefusedUnlessVerificationIsOff) {
  channel_.ca_file.clear();  // the system CAs do not know the throwaway certificate
  auto r = MakeSender()->Send(channel_, notification_);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status();
  EXPECT_EQ(smtp_->Count(), 0);

  SenderOptions o;
  o.env = [](const std::string&) { return std::optional<std::string>("s3cret-hasło"); };
  o.verify_tls = false;
  EXPECT_TRUE(NewEmailSender(o)->Send(channel_, notification_).ok());
  EXPECT_EQ(smtp_->Count(), 1);
}

TEST_F(EmailSenderTest, NoServerListeningIsRetryable) {
  channel_.smtp_url = "smtp://127.0.0.1:1";
  auto r = MakeSender()->Send(channel_, notification_);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(IsRetryable(r.status())) << r.status();
}

TEST(EmailEncodingTest, HeaderWordsSplitBetweenCharactersAndQuotedPrintableKeepsLinesShort) {
  EXPECT_EQ(internal::EncodeHeaderText("Plain ASCII"), "Plain ASCII");
  const std::string polish(40, 'x');
  const std::string text = polish + "ąęółśżźćń ĄĘÓŁŚŻŹĆŃ";
  const std::string encoded = internal::EncodeHeaderText(text);
  std::string decoded;
  std::size_t pos = 0;
  while ((pos = encoded.find("=?UTF-8?B?", pos)) != std::string::npos) {
    const std::size_t end = encoded.find("?=", pos + 10);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end + 2 - pos, 75u);
    auto part = internal::Base64Decode(encoded.substr(pos + 10, end - pos - 10));
    ASSERT_TRUE(part);
    // Each word holds whole UTF-8 characters: it never ends with a lead byte or starts mid-character.
    EXPECT_NE(static_cast<unsigned char>(part->front()) & 0xC0, 0x80u);
    decoded += *part;
    pos = end + 2;
  }
  EXPECT_EQ(decoded, text);

  EXPECT_EQ(internal::QuotedPrintable("a=b\nż\n.\nend "), "a=3Db\r\n=C5=BC\r\n=2E\r\nend=20\r\n");
  const std::string qp = internal::QuotedPrintable(std::string(200, 'y') + "ą");
  for (std::size_t s = 0, e; (e = qp.find("\r\n", s)) != std::string::npos; s = e + 2) {
    EXPECT_LE(e - s, 76u);
  }
}

}  // namespace
}  // namespace nurt::notify
