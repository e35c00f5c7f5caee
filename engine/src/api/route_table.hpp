#pragma once
// What every route file registers into: a method, a path template, the scope it needs and the handler.
// Private to nurt_api; api.cpp turns the table into a server::Router behind authentication.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nurt/api/api.hpp"
#include "nurt/auth/api_key_service.hpp"
#include "nurt/server/http_message.hpp"

namespace nurt::api {

// The scope value of routes that need no API key (signed task links carry their own proof).
inline constexpr const char* kPublic = "public";

struct Call {
  server::HttpRequest& request;
  const auth::Principal* principal;  // null on public routes

  const std::string& org() const { return principal->org_id; }
  std::string actor() const { return principal->Actor(); }
  const std::string& Param(const std::string& name) const { return request.path_params.at(name); }
  // Idempotency-Key header ("" when absent); at most 200 characters (400 otherwise).
  std::string IdempotencyKey() const;
};

using RouteHandler = std::function<server::HttpResponse(Call&)>;

struct RouteSpec {
  std::string method;
  std::string path;
  std::string scope;  // "" = any valid key; kPublic = no key
  RouteHandler handler;
};

class RouteTable {
 public:
  void Add(std::string method, std::string path, std::string scope, RouteHandler handler) {
    routes_.push_back({std::move(method), std::move(path), std::move(scope), std::move(handler)});
  }
  const std::vector<RouteSpec>& routes() const { return routes_; }

 private:
  std::vector<RouteSpec> routes_;
};

void AddDefinitionRoutes(RouteTable& table, const ApiOptions& deps);
void AddInstanceRoutes(RouteTable& table, const ApiOptions& deps);
void AddExportRoutes(RouteTable& table, const ApiOptions& deps);
void AddTaskRoutes(RouteTable& table, const ApiOptions& deps);
void AddKeyRoutes(RouteTable& table, const ApiOptions& deps);
void AddScheduleRoutes(RouteTable& table, const ApiOptions& deps);
void AddWebhookRoutes(RouteTable& table, const ApiOptions& deps);
void AddEffectRoutes(RouteTable& table, const ApiOptions& deps);

// Shared helpers for route files.

// After a successful commit: counts it in the metrics and wakes the internal-effect delivery.
void Committed(const ApiOptions& deps, const engine::Outcome& outcome);
server::HttpResponse JsonResponse(int status, const Json& body);
inline constexpr int kMaxPageSize = 500;

// A page size from ?limit= (default 100, 1..kMaxPageSize; 400 otherwise).
int PageLimit(const server::HttpRequest& request);
// A page of a list answer: {"items": [...], "nextCursor": id-of-the-last-item | null}. `rows` were read
// with limit + 1, so one row more than `limit` tells that there is a next page.
template <typename Row, typename ToJson>
Json Page(const std::vector<Row>& rows, int limit, ToJson&& to_json) {
  Json items = Json::array();
  Json next = nullptr;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (static_cast<int>(i) == limit) {
      next = rows[i - 1].id;
      break;
    }
    items.push_back(to_json(rows[i]));
  }
  return Json{{"items", std::move(items)}, {"nextCursor", std::move(next)}};
}

// "2026-01-01T00:00:00.000Z", or null for nullopt.
Json TimeOrNull(const std::optional<TimePoint>& t);

}  // namespace nurt::api
