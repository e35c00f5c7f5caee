#pragma once
// nurt::server::Router — maps (method, path) to a handler using path templates.
//
// Templates are '/'-separated segments; `{name}` matches one non-empty segment, which is percent-decoded
// into HttpRequest::path_params[name]. When several templates match a path, the most specific one wins:
// segments are compared left to right and a literal beats a parameter at the first position where they
// differ (`/v1/tasks/inbox` beats `/v1/tasks/{id}`). That template alone decides the answer:
//   - it has a handler for the method → the handler's response (req.route = template);
//   - it has none → 405 `method_not_allowed` with an `Allow` header listing its methods;
//   - no template matches → 404 `not_found`.
// A HEAD request is not mapped to GET; register it explicitly if needed.
//
// Thread-safety: Add() only before the router is shared; Dispatch()/Routes() are const and may run on
// many threads at once. Add() with a malformed template or a duplicate (method, template) is a bug and
// stops the process (NURT_ASSERT).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nurt/server/http_message.hpp"

namespace nurt::server {

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // REQUIRES: path_template starts with '/'; parameters are whole segments `{name}` with unique names.
  void Add(std::string method, std::string path_template, HttpHandler handler);

  // Sets req.route and req.path_params, then runs the handler (or answers 404/405 as above).
  HttpResponse Dispatch(HttpRequest& req) const;

  // Every (method, template) pair, in the order added (for route-coverage tests).
  std::vector<std::pair<std::string, std::string>> Routes() const;

  // A handler that dispatches through this router (the router must outlive it).
  HttpHandler AsHandler() const;

 private:
  struct Route;
  std::vector<Route> routes_;
};

}  // namespace nurt::server
