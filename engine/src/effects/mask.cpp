// MaskSecrets: what the integration log must never keep in clear.

#include <algorithm>
#include <cctype>
#include <regex>
#include <string>

#include "nurt/effects/adapter.hpp"

namespace nurt::effects {
namespace {

constexpr const char* kMask = "***";

bool IsSecretKey(std::string key) {
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
  key.erase(std::remove_if(key.begin(), key.end(), [](char c) { return c == '_' || c == '-'; }), key.end());
  for (const char* word : {"password", "passwd", "secret", "token", "apikey", "authorization", "credential"}) {
    if (key.find(word) != std::string::npos) return true;
  }
  return false;
}

void MaskJson(Json* j) {
  if (j->is_object()) {
    for (auto& [key, value] : j->items()) {
      if (IsSecretKey(key) && !value.is_object() && !value.is_array()) {
        value = kMask;
      } else {
        MaskJson(&value);
      }
    }
  } else if (j->is_array()) {
    for (Json& x : *j) MaskJson(&x);
  }
}

}  // namespace

std::string MaskSecrets(const std::string& body) {
  if (body.empty()) return body;
  try {
    Json j = Json::parse(body);
    if (j.is_object() || j.is_array()) {
      MaskJson(&j);
      return j.dump();
    }
  } catch (const Json::exception&) {
    // Not JSON (a form, a text answer, a cut body): mask pairs in the text.
  }
  static const std::regex kPair(
      R"re((["']?)([A-Za-z0-9_-]*(?:password|passwd|secret|token|api[_-]?key|authorization|credential)[A-Za-z0-9_-]*)\1(\s*[:=]\s*)("[^"]*"|(?:Bearer|Basic|Token)\s+[^&\s,;}"]+|[^&\s,;}"]+))re",
      std::regex::icase);
  return std::regex_replace(body, kPair, "$1$2$1$3\"***\"");
}

}  // namespace nurt::effects
