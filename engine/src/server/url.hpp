#pragma once
// Percent-decoding of request targets (private to the server area).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nurt::server::internal {

// Decodes %XX escapes (and '+' as space when `plus_is_space`, for query strings); nullopt on a bad escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// Splits "a=1&b=&c" into decoded pairs (("a","1"),("b",""),("c","")); nullopt on a bad escape.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query);

// The target's path part (before '?'), undecoded.
std::string_view RawPath(std::string_view target);

}  // namespace nurt::server::internal
