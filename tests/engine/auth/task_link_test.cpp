// TaskLinkSigner: round trip, and every way a link can be wrong: tampered payload or signature,
// another key, truncation, junk, and the expiry boundary.
#include "nurt/auth/task_link.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "auth/crypto.hpp"

namespace nurt::auth {
namespace {

using ::testing::HasSubstr;

const TimePoint kExpiry = FromUnixMillis(1'767'225'600'000);  // 2026-01-01T00:00:00Z
const TimePoint kBefore = kExpiry - std::chrono::hours(1);

TaskLinkClaims Claims() { return TaskLinkClaims{"acme", "01TASK0000000000000000000A", kExpiry}; }

void ExpectRejected(const Result<TaskLinkClaims>& r, const std::string& why) {
  ASSERT_FALSE(r.ok()) << why;
  EXPECT_TRUE(r.status().IsUnauthenticated()) << why << ": " << r.status();
}

TEST(TaskLink, SignedLinkVerifiesToItsClaimsAndIsUrlSafe) {
  TaskLinkSigner signer("key-one");
  const std::string token = signer.Sign(Claims());
  EXPECT_EQ(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
      std::string::npos)
      << token;
  auto claims = signer.Verify(token, kBefore);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->org_id, "acme");
  EXPECT_EQ(claims->task_id, "01TASK0000000000000000000A");
  EXPECT_EQ(claims->expires_at, kExpiry);
}

TEST(TaskLink, TamperedPayloadIsRejected) {
  TaskLinkSigner signer("key-one");
  const std::string token = signer.Sign(Claims());
  const auto dot = token.find('.');
  // A payload naming another task, re-encoded properly, with the original signature.
  TaskLinkClaims other = Claims();
  other.task_id = "01TASK0000000000000000000B";
  const std::string forged_body = signer.Sign(other).substr(0, signer.Sign(other).find('.'));
  ExpectRejected(signer.Verify(forged_body + token.substr(dot), kBefore), "other payload");
  // One flipped character in the payload.
  std::string flipped = token;
  flipped[3] = flipped[3] == 'A' ? 'B' : 'A';
  ExpectRejected(signer.Verify(flipped, kBefore), "flipped payload character");
}

TEST(TaskLink, TamperedSignatureIsRejected) {
  TaskLinkSigner signer("key-one");
  std::string token = signer.Sign(Claims());
  token[token.size() - 2] = token[token.size() - 2] == 'A' ? 'B' : 'A';
  auto r = signer.Verify(token, kBefore);
  ExpectRejected(r, "flipped signature character");
  EXPECT_THAT(r.status().message(), HasSubstr("ask the sender for a new one"));
}

TEST(TaskLink, LinkFromAnotherKeyIsRejected) {
  const std::string token = TaskLinkSigner("key-one").Sign(Claims());
  ExpectRejected(TaskLinkSigner("key-two").Verify(token, kBefore), "other key");
}

TEST(TaskLink, ExpiresExactlyAtItsExpiry) {
  TaskLinkSigner signer("key-one");
  const std::string token = signer.Sign(Claims());
  EXPECT_TRUE(signer.Verify(token, kExpiry - std::chrono::milliseconds(1)).ok());
  auto at = signer.Verify(token, kExpiry);
  ExpectRejected(at, "at expiry");
  EXPECT_THAT(at.status().message(), HasSubstr("expired at 2026-01-01T00:00:00.000Z"));
  ExpectRejected(signer.Verify(token, kExpiry + std::chrono::hours(24)), "a day later");
}

TEST(TaskLink, TruncatedAndMalformedInputIsRejected) {
  TaskLinkSigner signer("key-one");
  const std::string token = signer.Sign(Claims());
  for (std::size_t n = 0; n < token.size(); ++n) {
    ExpectRejected(signer.Verify(std::string_view(token).substr(0, n), kBefore),
                   "truncated to " + std::to_string(n));
  }
  ExpectRejected(signer.Verify(token + ".x", kBefore), "three parts");
  ExpectRejected(signer.Verify(token + "=", kBefore), "padding");
  ExpectRejected(signer.Verify("no-dot-at-all", kBefore), "one part");
  ExpectRejected(signer.Verify(std::string(10000, 'a') + "." + std::string(43, 'a'), kBefore),
                 "too long");
}

TEST(TaskLink, SignedButUnreadablePayloadIsRejected) {
  // Only someone holding the key could make this; Verify must still not crash or accept it.
  const std::string body = internal::Base64UrlEncode(R"({"o":"acme"})");
  const std::string token = body + "." + internal::Base64UrlEncode(internal::HmacSha256("k", body));
  ExpectRejected(TaskLinkSigner("k").Verify(token, kBefore), "missing fields");
}

}  // namespace
}  // namespace nurt::auth
