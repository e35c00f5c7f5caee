#pragma once
// The JSON value type used across nurt's public API (nlohmann::ordered_json keeps key order as written,
// which keeps diffs, history and exported documents readable and makes serialisation deterministic).

#include <nlohmann/json.hpp>
#include <string>

namespace nurt {

using Json = nlohmann::ordered_json;

// Parses `text`; on failure the message names the byte offset and what was expected.
// `what` names the document for the message (e.g. "--data").
class Status;
template <typename T>
class Result;
Result<Json> ParseJson(const std::string& text, const std::string& what);

// Canonical text of a JSON value: object keys sorted, no insignificant whitespace. Two requests are "the
// same" for idempotency purposes when their canonical texts are equal.
std::string CanonicalJson(const Json& value);

// Lower-case hex SHA-256 of `data` (OpenSSL).
std::string Sha256Hex(const std::string& data);

}  // namespace nurt
