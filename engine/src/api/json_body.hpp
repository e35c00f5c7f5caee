#pragma once
// Reading JSON request bodies so that every problem is reported with a JSON pointer (RFC 6901) to it.
//
// ParseJsonBody: malformed JSON answers 400 `malformed_json` with the pointer of the value being read
// when the parser gave up (e.g. "/data/amount") and the line:column of the offending byte.
// BodyReader: typed access to fields; a missing required field, a wrong type or an unknown field answers
// 400 `invalid_field` with the pointer of that field. All errors are thrown as ApiError.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_error.hpp"
#include "nurt/core/json.hpp"

namespace nurt::api {

// An empty body counts as `{}` when `empty_is_object` (POST actions whose fields are all optional).
Json ParseJsonBody(std::string_view body, bool empty_is_object = false);

// "/a~1b/0" for the path ["a/b", 0].
std::string JsonPointerEscape(std::string_view token);

class BodyReader {
 public:
  // `base` is the pointer of `object` inside the request body ("" for the body itself).
  explicit BodyReader(const Json& object, std::string base = "");

  std::string RequiredString(std::string_view key) const;
  std::string OptionalString(std::string_view key, std::string fallback = "") const;
  std::optional<std::int64_t> OptionalInt(std::string_view key) const;
  // Any JSON object; `fallback` when absent.
  Json OptionalObject(std::string_view key, Json fallback = Json::object()) const;
  std::vector<std::string> OptionalStringArray(std::string_view key) const;
  bool Has(std::string_view key) const;
  // Throws for the first key not in `allowed` (with a did-you-mean when one is close).
  void RejectUnknown(std::initializer_list<std::string_view> allowed) const;

  std::string Pointer(std::string_view key) const;

 private:
  const Json* Find(std::string_view key) const;
  [[noreturn]] void WrongType(std::string_view key, std::string_view expected) const;

  const Json& object_;
  std::string base_;
};

}  // namespace nurt::api
