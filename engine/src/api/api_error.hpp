#pragma once
// ApiError — what an API handler throws when it must answer with an error, and the one place that turns
// an engine Status into an HTTP status and a stable machine-readable error code.
//
// Handlers throw instead of returning so that the many early exits of request validation stay readable;
// the dispatcher (api.cpp) catches ApiError at the module boundary and nothing else escapes it.
// Body shape: {"error": {"code": "...", "message": "...", "pointer": "/data/amount", "details": {...}}}.

#include <string>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
#include "nurt/core/status.hpp"

namespace nurt::api {

struct ApiError {
  int http_status = 500;
  std::string code;      // stable, snake_case: "not_found", "malformed_json", "event_not_accepted", ...
  std::string message;   // for the person who must act
  std::string pointer;   // JSON pointer into the request body, "" when not about one field
  Json details;          // extra structured facts (accepted events, diagnostics, ...), null when none

  Json ToJson() const;
};

// The HTTP status and code for an engine Status (InvalidArgument 422, NotFound 404, FailedPrecondition
// 409, IdempotencyMismatch 422, Unavailable 503, Unauthenticated 401, PermissionDenied 403, ...).
ApiError FromStatus(const Status& status);

[[noreturn]] void Throw(int http_status, std::string code, std::string message, std::string pointer = "",
                        Json details = nullptr);
[[noreturn]] void ThrowStatus(const Status& status);

// The value of a Result (by value: callers write `for (auto& x : ValueOrThrow(Call()))`, and a
// reference into the temporary Result would dangle there), or throws FromStatus(its status).
template <typename T>
T ValueOrThrow(Result<T>&& result) {
  if (!result.ok()) ThrowStatus(result.status());
  return std::move(result).value();
}

inline void OkOrThrow(const Status& status) {
  if (!status.ok()) ThrowStatus(status);
}

}  // namespace nurt::api
