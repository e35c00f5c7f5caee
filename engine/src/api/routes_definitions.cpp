// /v1/definitions: list, show, diagram, upload.

#include <algorithm>

#include "api/api_error.hpp"
#include "api/json_body.hpp"
#include "api/route_table.hpp"
#include "api/views.hpp"
#include "nurt/dsl/graph.hpp"
#include "nurt/dsl/loader.hpp"

namespace nurt::api {
namespace {

std::int64_t VersionParam(const server::HttpRequest& request) {
  const std::string text = request.QueryParam("version");
  if (text.empty()) return 0;
  if (text.find_first_not_of("0123456789") != std::string::npos || text.size() > 12 || text == "0") {
    Throw(400, "invalid_query", "version must be a positive integer, got '" + text + "'");
  }
  return std::stoll(text);
}

// Rebuilds the Definition of a stored version from the store alone (its YAML and the scripts it was
// published with), for the states, events and diagram of exactly that version.
std::shared_ptr<const dsl::Definition> Rebuild(const store::DefinitionRecord& record) {
  std::vector<std::pair<std::string, std::string>> scripts;
  for (const auto& [path, content] : record.scripts.items()) scripts.emplace_back(path, content.get<std::string>());
  dsl::LoadOptions options;
  options.scripts = &scripts;
  dsl::LoadResult loaded = dsl::LoadMachineText(record.source_text, record.source_file, options);
  if (!loaded.definition) {
    Throw(500, "data_loss", "stored definition " + record.name + " v" + std::to_string(record.version) +
                                " no longer loads; this nurt binary may be older than the one that published it");
  }
  return loaded.definition;
}

}  // namespace

void AddDefinitionRoutes(RouteTable& table, const ApiOptions& deps) {
  table.Add("GET", "/v1/definitions", "read:definitions", [&deps](Call& call) {
    const std::string name = call.request.QueryParam("name");
    auto defs = ValueOrThrow(deps.store->ListDefinitions(call.org()));
    std::stable_sort(defs.begin(), defs.end(), [](const auto& a, const auto& b) {
      return a.name != b.name ? a.name < b.name : a.version > b.version;
    });
    Json items = Json::array();
    for (const auto& d : defs) {
      if (name.empty() || d.name == name) items.push_back(DefinitionSummaryJson(d));
    }
    return JsonResponse(200, Json{{"items", std::move(items)}});
  });

  table.Add("GET", "/v1/definitions/{name}", "read:definitions", [&deps](Call& call) {
    auto record = ValueOrThrow(
        deps.store->GetDefinition(call.org(), call.Param("name"), VersionParam(call.request)));
    auto def = Rebuild(record);
    Json out = DefinitionSummaryJson(record);
    out["description"] = def->description;
    out["source"] = record.source_text;
    out["scripts"] = record.scripts;
    Json states = Json::array();
    std::vector<std::string> events;
    for (std::size_t i = 1; i < def->states.size(); ++i) {
      states.push_back(def->states[i].id);
      for (const auto& t : def->states[i].transitions) {
        if (!t.event.empty() && std::find(events.begin(), events.end(), t.event) == events.end()) {
          events.push_back(t.event);
        }
      }
    }
    out["states"] = std::move(states);
    out["events"] = events;
    return JsonResponse(200, out);
  });

  table.Add("GET", "/v1/definitions/{name}/diagram", "read:definitions", [&deps](Call& call) {
    const std::string format = call.request.QueryParam("format");
    if (!format.empty() && format != "mermaid" && format != "dot") {
      Throw(400, "invalid_query", "format must be 'mermaid' or 'dot', got '" + format + "'");
    }
    auto record = ValueOrThrow(
        deps.store->GetDefinition(call.org(), call.Param("name"), VersionParam(call.request)));
    server::HttpResponse response;
    response.status = 200;
    response.content_type = "text/plain; charset=utf-8";
    response.body = dsl::RenderGraph(*Rebuild(record),
                                     format == "dot" ? dsl::GraphFormat::kDot : dsl::GraphFormat::kMermaid);
    return response;
  });

  table.Add("POST", "/v1/definitions", "definitions:write", [&deps](Call& call) {
    std::string file = "upload.yaml";
    std::string source;
    std::vector<std::pair<std::string, std::string>> scripts;
    const std::string content_type = call.request.Header("Content-Type");
    if (content_type.find("yaml") != std::string::npos) {
      source = call.request.body;
    } else {
      Json body = ParseJsonBody(call.request.body);
      BodyReader r(body);
      r.RejectUnknown({"file", "source", "scripts"});
      file = r.OptionalString("file", file);
      source = r.RequiredString("source");
      const Json scripts_json = r.OptionalObject("scripts");
      for (const auto& [path, content] : scripts_json.items()) {
        if (!content.is_string()) {
          const std::string p = "/scripts/" + JsonPointerEscape(path);
          Throw(400, "invalid_field", p + ": expected the Lua file's text as a string", p);
        }
        scripts.emplace_back(path, content.get<std::string>());
      }
    }
    dsl::LoadOptions options;
    options.scripts = &scripts;
    dsl::LoadResult loaded = dsl::LoadMachineText(source, file, options);
    if (!loaded.definition) {
      Json diagnostics = Json::array();
      std::string first;
      int errors = 0;
      for (const auto& d : loaded.diagnostics) {
        diagnostics.push_back(d.ToJson());
        if (d.severity == dsl::Severity::kError && errors++ == 0) first = d.ToString();
      }
      Throw(422, "invalid_definition",
            std::to_string(errors) + " error(s) in " + file + "; the first: " + first, "",
            Json{{"diagnostics", std::move(diagnostics)}});
    }
    const auto& def = *loaded.definition;
    auto existing = deps.store->GetDefinition(call.org(), def.name, def.version);
    OkOrThrow(deps.engine->Publish(call.org(), def));
    auto record = ValueOrThrow(deps.store->GetDefinition(call.org(), def.name, def.version));
    Json out = DefinitionSummaryJson(record);
    Json warnings = Json::array();
    for (const auto& d : loaded.diagnostics) warnings.push_back(d.ToJson());
    out["warnings"] = std::move(warnings);
    return JsonResponse(existing.ok() ? 200 : 201, out);
  });
}

}  // namespace nurt::api
