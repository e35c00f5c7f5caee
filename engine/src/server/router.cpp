#include "nurt/server/router.hpp"

#include <algorithm>
#include <set>

#include "nurt/core/assert.hpp"
#include "server/url.hpp"

namespace nurt::server {

struct Router::Route {
  std::string method;
  std::string path_template;
  std::vector<std::string> segments;  // literal text, or the parameter name when is_param
  std::vector<bool> is_param;
  HttpHandler handler;
};

namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  // "/" → {}; "/a/b" → {"a","b"}; "/a/" → {"a",""} (a trailing slash is a distinct, empty segment).
  std::vector<std::string_view> segments;
  if (path.empty() || path == "/") return segments;
  std::size_t start = path.front() == '/' ? 1 : 0;
  while (true) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      segments.push_back(path.substr(start));
      break;
    }
    segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

// -1 when `a` is more specific than `b`, 1 when less, 0 when they have the same shape.
int CompareSpecificity(const std::vector<bool>& a, const std::vector<bool>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] != b[i]) return a[i] ? 1 : -1;
  }
  return 0;
}

}  // namespace

Router::Router() = default;
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

void Router::Add(std::string method, std::string path_template, HttpHandler handler) {
  NURT_ASSERT(!path_template.empty() && path_template.front() == '/',
              "route template must start with '/': " + path_template);
  NURT_ASSERT(handler != nullptr, "route " + method + " " + path_template + " has no handler");
  Route route{method, path_template, {}, {}, std::move(handler)};
  std::set<std::string> names;
  for (std::string_view segment : SplitPath(path_template)) {
    bool param = segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
    std::string text(param ? segment.substr(1, segment.size() - 2) : segment);
    NURT_ASSERT(text.find_first_of("{}") == std::string::npos && !(param && text.empty()),
                "route template " + path_template + ": a parameter must be a whole segment `{name}`");
    NURT_ASSERT(!param || names.insert(text).second,
                "route template " + path_template + " repeats the parameter {" + text + "}");
    route.segments.push_back(std::move(text));
    route.is_param.push_back(param);
  }
  for (const Route& other : routes_) {
    NURT_ASSERT(!(other.method == method && other.path_template == path_template),
                "route " + method + " " + path_template + " added twice");
  }
  routes_.push_back(std::move(route));
}

HttpResponse Router::Dispatch(HttpRequest& req) const {
  std::string_view raw = req.target.empty() ? std::string_view(req.path) : internal::RawPath(req.target);
  std::vector<std::string_view> segments = SplitPath(raw);

  // Matching works on raw segments (so an encoded '/' stays inside its segment) and decodes parameters.
  const Route* best = nullptr;
  for (const Route& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    bool match = true;
    for (std::size_t i = 0; i < segments.size() && match; ++i) {
      match = route.is_param[i] ? !segments[i].empty() : route.segments[i] == segments[i];
    }
    if (match && (best == nullptr || CompareSpecificity(route.is_param, best->is_param) < 0)) best = &route;
  }
  req.route.clear();
  req.path_params.clear();
  if (best == nullptr) {
    return HttpResponse::Error(404, "not_found", "no resource at " + std::string(raw));
  }

  const Route* chosen = nullptr;
  std::vector<std::string> allowed;
  for (const Route& route : routes_) {
    if (route.path_template != best->path_template) continue;
    allowed.push_back(route.method);
    if (route.method == req.method) chosen = &route;
  }
  if (chosen == nullptr) {
    std::string allow;
    for (const std::string& method : allowed) allow += (allow.empty() ? "" : ", ") + method;
    HttpResponse response = HttpResponse::Error(
        405, "method_not_allowed", req.method + " is not allowed on " + best->path_template + "; use " + allow,
        nurt::Json{{"allow", allowed}});
    response.SetHeader("Allow", allow);
    req.route = best->path_template;
    return response;
  }

  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (!chosen->is_param[i]) continue;
    std::optional<std::string> value = internal::PercentDecode(segments[i], false);
    if (!value) {
      return HttpResponse::Error(400, "bad_request",
                                 "path segment '" + std::string(segments[i]) + "' has a bad %-escape");
    }
    req.path_params[chosen->segments[i]] = std::move(*value);
  }
  req.route = chosen->path_template;
  return chosen->handler(req);
}

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Route& route : routes_) out.emplace_back(route.method, route.path_template);
  return out;
}

HttpHandler Router::AsHandler() const {
  return [this](HttpRequest& req) { return Dispatch(req); };
}

}  // namespace nurt::server
