// /v1/exports: instances and their events as CSV (for Excel) or JSON, for the calling organisation.

#include "api/api_error.hpp"
#include "api/csv_writer.hpp"
#include "api/route_table.hpp"
#include "api/views.hpp"

namespace nurt::api {
namespace {

constexpr int kPage = 500;

std::string Format(const server::HttpRequest& request) {
  const std::string f = request.QueryParam("format");
  if (f.empty() || f == "json") return "json";
  if (f == "csv") return "csv";
  Throw(400, "invalid_query", "format must be 'csv' or 'json', got '" + f + "'");
}

std::string JoinStates(const std::vector<std::string>& states) {
  std::string out;
  for (const auto& s : states) out += (out.empty() ? "" : " ") + s;
  return out;
}

// Every instance matching the filter, a page at a time (the store caps a page; exports want all).
template <typename F>
void ForEachInstance(const ApiOptions& deps, const std::string& org, store::InstanceFilter filter, F&& f) {
  filter.limit = kPage;
  for (;;) {
    auto page = ValueOrThrow(deps.store->ListInstances(org, filter));
    for (const auto& r : page) f(r);
    if (static_cast<int>(page.size()) < kPage) return;
    filter.after_id = page.back().id;
  }
}

server::HttpResponse Attachment(const std::string& format, const std::string& base, std::string body) {
  server::HttpResponse response;
  response.status = 200;
  response.content_type = format == "csv" ? "text/csv; charset=utf-8" : "application/json";
  response.SetHeader("Content-Disposition", "attachment; filename=\"" + base + "." + format + "\"");
  response.body = std::move(body);
  return response;
}

}  // namespace

void AddExportRoutes(RouteTable& table, const ApiOptions& deps) {
  table.Add("GET", "/v1/exports/instances", "read:instances", [&deps](Call& call) {
    const std::string format = Format(call.request);
    store::InstanceFilter filter;
    filter.machine = call.request.QueryParam("machine");
    filter.run_status = call.request.QueryParam("status");
    CsvWriter csv;
    csv.Row({"id", "machine", "machine_version", "run_status", "state", "version", "created_at",
             "updated_at", "context"});
    Json items = Json::array();
    ForEachInstance(deps, call.org(), filter, [&](const store::InstanceRecord& r) {
      const Json context = r.snapshot.is_object() && r.snapshot.contains("context") ? r.snapshot["context"]
                                                                                   : Json::object();
      if (format == "csv") {
        csv.Row({r.id, r.machine, std::to_string(r.machine_version), r.run_status, JoinStates(r.state),
                 std::to_string(r.version), FormatIso8601(r.created_at), FormatIso8601(r.updated_at),
                 context.dump()});
      } else {
        Json j = InstanceSummaryJson(r);
        j["context"] = context;
        items.push_back(std::move(j));
      }
    });
    return Attachment(format, "instances",
                      format == "csv" ? csv.text() : Json{{"instances", std::move(items)}}.dump());
  });

  table.Add("GET", "/v1/exports/events", "read:instances", [&deps](Call& call) {
    const std::string format = Format(call.request);
    const std::string only = call.request.QueryParam("instance");
    CsvWriter csv;
    csv.Row({"instance_id", "machine", "sequence", "event_id", "type", "occurred_at", "actor", "payload",
             "trace_id", "idempotency_key"});
    Json items = Json::array();
    auto emit = [&](const store::InstanceRecord& r) {
      for (const auto& e : ValueOrThrow(deps.store->ListEvents(call.org(), r.id))) {
        if (format == "csv") {
          csv.Row({r.id, r.machine, std::to_string(e.sequence), e.id, e.type, FormatIso8601(e.occurred_at),
                   e.actor, e.payload.dump(), e.trace_id, e.idempotency_key});
        } else {
          items.push_back(e.ToJson());
        }
      }
    };
    if (!only.empty()) {
      emit(ValueOrThrow(deps.store->GetInstance(call.org(), only)));
    } else {
      store::InstanceFilter filter;
      filter.machine = call.request.QueryParam("machine");
      ForEachInstance(deps, call.org(), filter, emit);
    }
    return Attachment(format, "events",
                      format == "csv" ? csv.text() : Json{{"events", std::move(items)}}.dump());
  });
}

}  // namespace nurt::api
