#pragma once
// How every sqlite_*.cpp stores JSON (compact text) and names objects in messages (private to
// nurt_store). One copy, so the store's files word their errors alike.

#include <string>
#include <string_view>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"

namespace nurt::store::sqlite {

inline std::string Quote(const std::string& s) { return "'" + s + "'"; }

// InvalidArgument when `value` cannot be serialised (strings must be valid UTF-8).
inline Result<std::string> Dump(const Json& value, std::string_view what) {
  try {
    return value.dump();
  } catch (const Json::exception& e) {
    return Status::InvalidArgument(std::string(what) + " cannot be stored as JSON: " + e.what() +
                                   "; strings must be valid UTF-8");
  }
}

// DataLoss when a stored text is not JSON: the database was changed outside nurt or is damaged.
inline Result<Json> Load(const std::string& text, std::string_view what) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    return Status::DataLoss(std::string(what) + " holds invalid JSON (" + e.what() +
                            "); the database was modified outside nurt or is damaged: restore the "
                            "latest backup");
  }
}

}  // namespace nurt::store::sqlite
