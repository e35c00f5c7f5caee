#include "nurt/auth/task_link.hpp"

#include <exception>
#include <utility>

#include "auth/crypto.hpp"
#include "nurt/core/assert.hpp"
#include "nurt/core/json.hpp"

namespace nurt::auth {
namespace {

using internal::Base64UrlDecode;
using internal::Base64UrlEncode;

// Longest token accepted: far above any real one, low enough that a hostile input costs nothing.
constexpr std::size_t kMaxTokenLength = 4096;

Status Invalid(std::string_view why) {
  return Status::Unauthenticated("this task link is not valid (" + std::string(why) +
                                 "); check that the whole link was copied, or ask the sender for a "
                                 "new one");
}

}  // namespace

TaskLinkSigner::TaskLinkSigner(std::string key) : key_(std::move(key)) {
  NURT_ASSERT(!key_.empty(), "TaskLinkSigner needs a non-empty key");
}

std::string TaskLinkSigner::Sign(const TaskLinkClaims& claims) const {
  const Json payload{
      {"o", claims.org_id}, {"t", claims.task_id}, {"e", ToUnixMillis(claims.expires_at)}};
  const std::string body = Base64UrlEncode(payload.dump());
  return body + "." + Base64UrlEncode(internal::HmacSha256(key_, body));
}

Result<TaskLinkClaims> TaskLinkSigner::Verify(std::string_view token, TimePoint now) const {
  if (token.empty() || token.size() > kMaxTokenLength) return Invalid("wrong length");
  const auto dot = token.find('.');
  if (dot == std::string_view::npos || token.find('.', dot + 1) != std::string_view::npos) {
    return Invalid("not two parts separated by '.'");
  }
  const std::string_view body = token.substr(0, dot);
  const auto signature = Base64UrlDecode(token.substr(dot + 1));
  if (!signature || signature->size() != 32) return Invalid("damaged signature");
  // The signature is checked before the payload is even decoded: nothing unsigned is parsed.
  if (!internal::ConstantTimeEquals(*signature, internal::HmacSha256(key_, body))) {
    return Invalid("signature does not match");
  }
  const auto payload_text = Base64UrlDecode(body);
  if (!payload_text) return Invalid("damaged payload");
  TaskLinkClaims claims;
  try {
    const Json payload = Json::parse(*payload_text);
    claims.org_id = payload.at("o").get<std::string>();
    claims.task_id = payload.at("t").get<std::string>();
    claims.expires_at = FromUnixMillis(payload.at("e").get<std::int64_t>());
  } catch (const std::exception&) {
    // Signed by our key yet unreadable: only a nurt bug could produce it.
    return Invalid("unreadable payload");
  }
  if (now >= claims.expires_at) {
    return Status::Unauthenticated("this task link expired at " + FormatIso8601(claims.expires_at) +
                                   "; ask the sender for a new one");
  }
  return claims;
}

}  // namespace nurt::auth
