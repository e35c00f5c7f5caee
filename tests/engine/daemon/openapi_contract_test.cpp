// schemas/openapi.yaml and the server, held together: every route the server answers is documented (and
// nothing documented is missing), every request example is accepted by a real server, and the answers
// match the documented response schemas.

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "daemon_fixture.hpp"
#include "dsl/yaml_walker.hpp"
#include "nurt/api/api.hpp"

namespace nurt::daemon {
namespace {

Json LoadOpenApi() {
  YAML::Node doc = YAML::LoadFile(std::string(NURT_SOURCE_ROOT) + "/schemas/openapi.yaml");
  return dsl::internal::ToJson(doc);
}

const std::vector<std::string> kMethods = {"get", "post", "put", "patch", "delete"};

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// In JSON Schema 2020-12 (OpenAPI 3.1) `format` is an annotation, not an assertion; valijson (draft 7)
// would assert it, with its own idea of date-time. Removed so the check is the standard one.
void StripFormats(nlohmann::json& node) {
  if (node.is_object()) {
    if (node.contains("format") && node["format"].is_string()) node.erase("format");
    for (auto& [k, v] : node.items()) StripFormats(v);
  } else if (node.is_array()) {
    for (auto& v : node) StripFormats(v);
  }
}

// Problems of `value` against the schema at `pointer` (e.g. "#/components/schemas/Outcome") of the
// OpenAPI document; "" when it conforms.
std::string SchemaProblems(const Json& openapi, const Json& schema, const Json& value) {
  // valijson resolves "#/components/…" against the root document, so the schema under test is placed
  // at the root of a copy of the whole document.
  nlohmann::json root = nlohmann::json::parse(openapi.dump());
  StripFormats(root);
  const nlohmann::json schema_plain = nlohmann::json::parse(schema.dump());
  for (auto& [k, v] : schema_plain.items()) root[k] = v;
  root.erase("paths");
  valijson::Schema compiled;
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  valijson::adapters::NlohmannJsonAdapter schema_adapter(root);
  try {
    parser.populateSchema(schema_adapter, compiled);
  } catch (const std::exception& e) {
    return std::string("schema does not compile: ") + e.what();
  }
  valijson::Validator validator;
  valijson::ValidationResults results;
  nlohmann::json plain = nlohmann::json::parse(value.dump());
  valijson::adapters::NlohmannJsonAdapter value_adapter(plain);
  if (validator.validate(compiled, value_adapter, &results)) return "";
  std::string out;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    std::string where;
    for (const auto& c : error.context) where += c;
    out += where + ": " + error.description + "\n";
  }
  return out;
}

TEST(OpenApi, EveryRouteTheServerAnswersIsDocumentedAndViceVersa) {
  const Json doc = LoadOpenApi();
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& m : kMethods) {
      if (item.contains(m)) documented.insert({Upper(m), path});
    }
  }
  api::Api api{api::ApiOptions{}};
  std::set<std::pair<std::string, std::string>> served = {
      {"GET", "/healthz"}, {"GET", "/readyz"}, {"GET", "/metrics"}};  // answered by the HTTP server itself
  for (const auto& r : api.Routes()) served.insert(r);
  for (const auto& r : served) EXPECT_TRUE(documented.count(r)) << r.first << " " << r.second << " is not in openapi.yaml";
  for (const auto& r : documented) EXPECT_TRUE(served.count(r)) << r.first << " " << r.second << " is documented but not served";
  // Every authenticated operation names its scope.
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& m : kMethods) {
      if (!item.contains(m)) continue;
      const Json& op = item[m];
      const bool is_public = op.contains("security") && op["security"].empty();
      EXPECT_TRUE(is_public || op.contains("x-nurt-scope")) << m << " " << path;
    }
  }
}

const char* kReview = R"(apiVersion: nurt/v1
kind: Machine
name: offer_review
version: 1
initial: review
states:
  review:
    task:
      title: Review the offer
      assignee: {role: coordinator}
      form:
        - {name: amount, type: number, required: true}
        - {name: note, type: string}
      checklist: [Check NIP]
      decisions:
        approve: offer.approved
    on:
      offer.approved: approved
  approved:
    type: final
)";

// Fails when the receiving instance has no NIP: an internal delivery that fails makes it `failed`, and
// retry with a context patch repairs it.
const char* kNipCheck = R"(apiVersion: nurt/v1
kind: Machine
name: nip_check
version: 1
initial: waiting
states:
  waiting:
    on:
      check:
        target: checked
        actions:
          - lua: "if ctx.nip == nil then error('no NIP on file') end"
  checked:
    type: final
)";
const char* kNipSender = R"(apiVersion: nurt/v1
kind: Machine
name: nip_sender
version: 1
initial: sending
states:
  sending:
    entry:
      - emit: {event: check, to: "ctx.target"}
    always: done
  done:
    type: final
)";

// Calls an endpoint nobody listens on: the effect stays in the retry queue (docs/effects.md).
const char* kCaller = R"(apiVersion: nurt/v1
kind: Machine
name: caller
version: 1
initial: calling
states:
  calling:
    entry:
      - call: {adapter: http, step: order, input: {url: "'http://127.0.0.1:1/orders'"}, retry: exponential}
    on:
      order.done: done
  done:
    type: final
)";

class OpenApiExamples : public DaemonTest {
 protected:
  std::string Publish(const char* yaml) {
    ApiResponse r = Call("POST", "/v1/definitions", admin_, Json{{"source", yaml}});
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r;
    return r.body.value("name", "");
  }
  std::string Start(const std::string& machine, const Json& data = Json::object()) {
    ApiResponse r = Call("POST", "/v1/instances", admin_, Json{{"machine", machine}, {"data", data}});
    EXPECT_EQ(r.status, 201) << r;
    return r.body.value("instanceId", "");
  }
  std::string OpenTask(const std::string& instance) {
    ApiResponse r = Call("GET", "/v1/instances/" + instance, admin_);
    return r.body["tasks"].empty() ? "" : r.body["tasks"][0]["id"].get<std::string>();
  }
  std::string PendingEffect() {
    const std::string instance = Start("caller");
    ApiResponse r = Call("GET", "/v1/effects?instance=" + instance, admin_);
    EXPECT_EQ(r.status, 200) << r;
    return r.body["items"].empty() ? "" : r.body["items"][0]["id"].get<std::string>();
  }
  std::string FailedNipCheck() {
    const std::string target = Start("nip_check");
    Start("nip_sender", Json{{"target", target}});
    for (int i = 0; i < 500; ++i) {  // the delivery loop runs in the background (woken by the commit)
      if (Call("GET", "/v1/instances/" + target, admin_).body["runStatus"] == "failed") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return target;
  }
};

TEST_F(OpenApiExamples, EveryRequestExampleIsAcceptedAndAnswersMatchTheSchemas) {
  const Json doc = LoadOpenApi();
  Publish(kReview);
  Publish(kNipCheck);
  Publish(kNipSender);
  Publish(kCaller);
  int sent = 0;
  for (const auto& [path_template, item] : doc["paths"].items()) {
    for (const auto& m : kMethods) {
      if (!item.contains(m) || !item[m].contains("requestBody")) continue;
      Json op = item[m];
      Json body_spec = op["requestBody"];
      if (body_spec.contains("$ref")) {
        const std::string ref = body_spec["$ref"];
        body_spec = doc["components"]["requestBodies"][ref.substr(ref.rfind('/') + 1)];
      }
      const Json& json_content = body_spec["content"]["application/json"];
      ASSERT_TRUE(json_content.contains("examples")) << m << " " << path_template << " has no example";
      for (const auto& [name, example] : json_content["examples"].items()) {
        const std::string op_id = op["operationId"];
        // Make the object the example acts on, then fill the path.
        std::string path = path_template;
        auto fill = [&](const std::string& param, const std::string& value) {
          path.replace(path.find("{" + param + "}"), param.size() + 2, value);
        };
        std::string token = admin_;
        if (op_id == "sendEvent" || op_id == "forceState" || op_id == "cancelInstance" ||
            op_id == "suspendInstance") {
          fill("id", Start("lead", Json{{"source", "web"}, {"contact", {{"name", "A"}, {"phone", "1"}}}}));
        } else if (op_id == "resumeInstance") {
          const std::string id = Start("ticket");
          ASSERT_EQ(Call("POST", "/v1/instances/" + id + "/suspend", admin_, Json{{"reason", "r"}}).status, 200);
          fill("id", id);
        } else if (op_id == "retryEffect" || op_id == "skipEffect") {
          fill("id", PendingEffect());
        } else if (op_id == "skipStep") {
          fill("id", Start("ticket"));
        } else if (op_id == "retryStep") {
          fill("id", FailedNipCheck());
        } else if (op_id == "completeTask" || op_id == "createTaskLink") {
          fill("id", OpenTask(Start("offer_review")));
        } else if (op_id == "completeTaskByLink") {
          const std::string task = OpenTask(Start("offer_review"));
          fill("token", Call("POST", "/v1/tasks/" + task + "/links", admin_, Json::object()).body["token"]);
        } else if (path.find("/v1/keys/{id}") == 0) {
          fill("id", Call("POST", "/v1/keys", admin_, Json{{"name", "k-" + op_id}, {"scopes", {"read:tasks"}}})
                         .body["key"]["id"]);
          if (op_id == "activateKey") {
            ASSERT_EQ(Call("POST", path.substr(0, path.rfind('/')) + "/suspend", admin_).status, 200);
          }
        } else if (path.find("/v1/webhooks/{id}") == 0) {
          fill("id", Call("POST", "/v1/webhooks", admin_,
                          Json{{"url", "https://hooks.example.com/" + op_id}, {"events", {"order.*"}}})
                         .body["webhook"]["id"]);
        }
        ASSERT_EQ(path.find('{'), std::string::npos) << "no set-up for " << op_id;
        ApiResponse r = Call(Upper(m), path, token, example["value"]);
        ++sent;
        EXPECT_GE(r.status, 200) << op_id << "/" << name << ": " << r;
        EXPECT_LT(r.status, 300) << op_id << "/" << name << ": " << r;
        if (r.status >= 300) continue;
        const Json& responses = op["responses"];
        const std::string code = std::to_string(r.status);
        ASSERT_TRUE(responses.contains(code)) << op_id << " answered " << code << ", which is not documented";
        const Json& resp = responses[code];
        if (resp.contains("content") && resp["content"].contains("application/json") && r.body.is_object()) {
          const std::string problems = SchemaProblems(doc, resp["content"]["application/json"]["schema"], r.body);
          EXPECT_EQ(problems, "") << op_id << " answer does not match its schema: " << r.text;
        }
      }
    }
  }
  EXPECT_GE(sent, 15);
}

TEST_F(OpenApiExamples, ErrorAnswersMatchTheErrorSchema) {
  const Json doc = LoadOpenApi();
  const Json error_schema = {{"$ref", "#/components/schemas/Error"}};
  for (const ApiResponse& r : {Call("GET", "/v1/instances/nope", admin_), Call("GET", "/v1/instances", ""),
                               CallRaw("POST", "/v1/instances", admin_, "{nope"),
                               Call("POST", "/v1/instances", admin_, Json{{"machine", "nope"}})}) {
    EXPECT_GE(r.status, 400);
    EXPECT_EQ(SchemaProblems(doc, error_schema, r.body), "") << r;
  }
}

TEST_F(OpenApiExamples, ScheduleAnswersMatchTheirSchemas) {
  // A daemon whose folders hold a schedule, "down" over one run so that both outcomes are listed.
  daemon_->Shutdown();
  daemon_.reset();
  client_.reset();
  const std::string folder = dir_.File("flows");
  std::filesystem::create_directories(folder);
  std::ofstream(folder + "/m.yaml") << "apiVersion: nurt/v1\nkind: Machine\nname: sync\nversion: 1\nstates:\n  s: {}\n";
  std::ofstream(folder + "/s.yaml") << "apiVersion: nurt/v1\nkind: Schedule\nname: hourly\nschedule: \"@hourly\"\n"
                                       "missed: run_once\nstart: {machine: sync}\n";
  StartDaemon([&](server::DaemonConfig& c) { c.definition_paths = {folder}; });
  clock_.Advance(std::chrono::hours(2));
  ApiResponse runs;
  for (int i = 0; i < 500; ++i) {
    runs = Call("GET", "/v1/schedules/hourly/runs", admin_);
    if (runs.status == 200 && runs.body["items"].size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const Json doc = LoadOpenApi();
  const Json& runs_op = doc["paths"]["/v1/schedules/{name}/runs"]["get"];
  ASSERT_EQ(runs.body["items"].size(), 2u) << runs;
  EXPECT_EQ(SchemaProblems(doc, runs_op["responses"]["200"]["content"]["application/json"]["schema"], runs.body), "")
      << runs;
  ApiResponse list = Call("GET", "/v1/schedules", admin_);
  const Json& list_op = doc["paths"]["/v1/schedules"]["get"];
  ASSERT_EQ(list.body["items"].size(), 1u) << list;
  EXPECT_EQ(SchemaProblems(doc, list_op["responses"]["200"]["content"]["application/json"]["schema"], list.body), "")
      << list;
  ApiResponse missing = Call("GET", "/v1/schedules/nope/runs", admin_);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(SchemaProblems(doc, {{"$ref", "#/components/schemas/Error"}}, missing.body), "") << missing;
}

}  // namespace
}  // namespace nurt::daemon
