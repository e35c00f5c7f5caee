#include "nurt/core/json.hpp"

#include <openssl/evp.h>

#include <map>

#include "nurt/core/result.hpp"

namespace nurt {

Result<Json> ParseJson(const std::string& text, const std::string& what) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // nlohmann's message is "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
    std::string msg = e.what();
    auto pos = msg.find("] ");
    if (pos != std::string::npos) msg = msg.substr(pos + 2);
    return Status::InvalidArgument(what + " is not valid JSON: " + msg);
  }
}

namespace {
void WriteCanonical(const Json& v, std::string* out) {
  if (v.is_object()) {
    std::map<std::string, const Json*> sorted;
    for (auto it = v.begin(); it != v.end(); ++it) sorted.emplace(it.key(), &it.value());
    out->push_back('{');
    bool first = true;
    for (const auto& [k, child] : sorted) {
      if (!first) out->push_back(',');
      first = false;
      out->append(Json(k).dump());
      out->push_back(':');
      WriteCanonical(*child, out);
    }
    out->push_back('}');
  } else if (v.is_array()) {
    out->push_back('[');
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out->push_back(',');
      WriteCanonical(v[i], out);
    }
    out->push_back(']');
  } else {
    out->append(v.dump());
  }
}
}  // namespace

std::string CanonicalJson(const Json& value) {
  std::string out;
  WriteCanonical(value, &out);
  return out;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

}  // namespace nurt
