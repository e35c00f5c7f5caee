#pragma once
// nurt::auth::TaskLinkSigner — signed, expiring links that let an outside party (a supplier
// confirming a delivery) act on one human task without an API key.
//
// Token: base64url(payload JSON) "." base64url(HMAC-SHA256(key, first part)), no padding: URL-safe
// and compact. The payload is {"o": org, "t": task id, "e": expiry in Unix milliseconds}. It is
// signed, not encrypted: anyone holding the link can read the task id and expiry. The key comes
// from the master secret (DeriveTaskLinkKey in nurt/auth/master_secret.hpp), so rotating that
// secret invalidates every outstanding link.
//
// Thread-safety: a signer is immutable; Sign and Verify may be called from any thread.
// Errors (Verify): Unauthenticated for a malformed, truncated or tampered token, one signed with
// another key, or an expired one ("... expired at 2026-...Z"). A link is valid while now <
// expires_at.

#include <string>
#include <string_view>

#include "nurt/core/result.hpp"
#include "nurt/core/time.hpp"

namespace nurt::auth {

struct TaskLinkClaims {
  std::string org_id;
  std::string task_id;
  TimePoint expires_at{};
};

class TaskLinkSigner {
 public:
  // REQUIRES: key is not empty.
  explicit TaskLinkSigner(std::string key);

  std::string Sign(const TaskLinkClaims& claims) const;
  Result<TaskLinkClaims> Verify(std::string_view token, TimePoint now) const;

 private:
  std::string key_;
};

}  // namespace nurt::auth
