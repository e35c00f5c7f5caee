#pragma once
// nurt::Result<T> — a value or a non-OK Status (std::expected is C++23; this is the subset we need).

#include <optional>
#include <utility>

#include "nurt/core/assert.hpp"
#include "nurt/core/status.hpp"

namespace nurt {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    NURT_ASSERT(!status_.ok(), "Result constructed from an OK Status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok()
  T& value() & {
    NURT_ASSERT(ok(), "Result::value() on error: " + status_.ToString());
    return *value_;
  }
  const T& value() const& {
    NURT_ASSERT(ok(), "Result::value() on error: " + status_.ToString());
    return *value_;
  }
  T&& value() && {
    NURT_ASSERT(ok(), "Result::value() on error: " + status_.ToString());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace nurt

// Evaluates `rexpr` (a Result); on error returns its Status, otherwise moves the value into `lhs`.
#define NURT_ASSIGN_OR_RETURN(lhs, rexpr) NURT_ASSIGN_OR_RETURN_IMPL(NURT_CONCAT(_nurt_r_, __LINE__), lhs, rexpr)
#define NURT_CONCAT_INNER(a, b) a##b
#define NURT_CONCAT(a, b) NURT_CONCAT_INNER(a, b)
#define NURT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                               \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
