#include "nurt/core/status.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "nurt/core/assert.hpp"

namespace nurt {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kAlreadyExists: return "already exists";
    case StatusCode::kConflict: return "conflict";
    case StatusCode::kFailedPrecondition: return "failed precondition";
    case StatusCode::kIdempotencyMismatch: return "idempotency key reused";
    case StatusCode::kResourceExhausted: return "resource exhausted";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kDataLoss: return "data loss";
    case StatusCode::kInternal: return "internal error";
    case StatusCode::kUnauthenticated: return "unauthenticated";
    case StatusCode::kPermissionDenied: return "permission denied";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + message_);
}

std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.ToString(); }

namespace detail {
void AssertFail(const char* expr, const char* file, int line, const std::string& msg) {
  std::fprintf(stderr, "nurt: internal invariant broken at %s:%d: %s (%s)\n", file, line, msg.c_str(),
               expr);
  std::abort();
}
}  // namespace detail

}  // namespace nurt
