#pragma once
// nurt::Status — the typed outcome of every public operation that can fail.
//
// Modelled on leveldb's Status: cheap to return, a code the caller branches on and a message written for
// the person who must act ("fix input", "retry", "page an operator"). Exceptions from third-party libraries
// (yaml-cpp, libpqxx, Lua, SQLite) are caught at module boundaries and turned into a Status.
//
// Thread-safety: a Status is a value; distinct objects may be used from distinct threads.

#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace nurt {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is wrong: fix it and try again
  kNotFound,            // the named object does not exist (or is not visible to this org)
  kAlreadyExists,       // creating something whose id is taken
  kConflict,            // optimistic concurrency: the object changed under you; reload and retry
  kFailedPrecondition,  // the object is not in a state that allows this (e.g. event not accepted)
  kIdempotencyMismatch, // idempotency key reused with a different request
  kResourceExhausted,   // a limit was hit (Lua instructions/memory, body size, ...)
  kUnavailable,         // transient infrastructure failure (busy database, IO): retry later
  kDataLoss,            // stored data is corrupt: page an operator
  kInternal,            // a bug in nurt
  kUnauthenticated,     // no valid credentials (missing, unknown, revoked or expired API key)
  kPermissionDenied,    // valid credentials without the scope this needs
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status Conflict(std::string msg) { return {StatusCode::kConflict, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) {
    return {StatusCode::kFailedPrecondition, std::move(msg)};
  }
  static Status IdempotencyMismatch(std::string msg) {
    return {StatusCode::kIdempotencyMismatch, std::move(msg)};
  }
  static Status ResourceExhausted(std::string msg) {
    return {StatusCode::kResourceExhausted, std::move(msg)};
  }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status DataLoss(std::string msg) { return {StatusCode::kDataLoss, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  static Status Unauthenticated(std::string msg) {
    return {StatusCode::kUnauthenticated, std::move(msg)};
  }
  static Status PermissionDenied(std::string msg) {
    return {StatusCode::kPermissionDenied, std::move(msg)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsInvalidArgument() const { return code_ == StatusCode::kInvalidArgument; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsAlreadyExists() const { return code_ == StatusCode::kAlreadyExists; }
  bool IsConflict() const { return code_ == StatusCode::kConflict; }
  bool IsFailedPrecondition() const { return code_ == StatusCode::kFailedPrecondition; }
  bool IsIdempotencyMismatch() const { return code_ == StatusCode::kIdempotencyMismatch; }
  bool IsResourceExhausted() const { return code_ == StatusCode::kResourceExhausted; }
  bool IsUnavailable() const { return code_ == StatusCode::kUnavailable; }
  bool IsUnauthenticated() const { return code_ == StatusCode::kUnauthenticated; }
  bool IsPermissionDenied() const { return code_ == StatusCode::kPermissionDenied; }

  // "code: message", for logs and CLI output.
  std::string ToString() const;

  // Returns a copy whose message is prefixed by `context: `.
  Status WithContext(std::string_view context) const;

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

std::ostream& operator<<(std::ostream& os, const Status& s);

}  // namespace nurt

// Propagates a non-OK Status to the caller.
#define NURT_RETURN_IF_ERROR(expr)           \
  do {                                       \
    ::nurt::Status _nurt_status = (expr);    \
    if (!_nurt_status.ok()) return _nurt_status; \
  } while (0)
