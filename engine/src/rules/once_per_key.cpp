#include "rules/once_per_key.hpp"

#include <date/date.h>
#include <date/tz.h>

namespace nurt::rules::internal {
namespace {

const Json* Lookup(const Json& vars, const std::string& path) {
  const Json* at = &vars;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
    if (dot == std::string::npos) return at;
    start = dot + 1;
  }
}

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string RenderKey(const std::string& tmpl, const Json& vars) {
  std::string out;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t open = tmpl.find("{{", pos);
    if (open == std::string::npos) break;
    const std::size_t close = tmpl.find("}}", open + 2);
    if (close == std::string::npos) break;
    out.append(tmpl, pos, open - pos);
    const Json* value = Lookup(vars, Trim(tmpl.substr(open + 2, close - open - 2)));
    if (value != nullptr && !value->is_null()) {
      out += value->is_string() ? value->get<std::string>() : value->dump();
    }
    pos = close + 2;
  }
  out.append(tmpl, pos, std::string::npos);
  return out;
}

std::string LocalDay(TimePoint t, const date::time_zone* zone) {
  const auto local = zone->to_local(t);
  return date::format("%F", date::floor<date::days>(local));
}

}  // namespace nurt::rules::internal
