// Keys, scopes, rate limits and tenant isolation through real HTTP.

#include <regex>

#include "daemon_fixture.hpp"

namespace nurt::daemon {
namespace {

TEST_F(DaemonTest, MissingUnknownAndMalformedKeysAre401) {
  ApiResponse none = Call("GET", "/v1/instances", "");
  EXPECT_EQ(none.status, 401) << none;
  EXPECT_NE(none.Header("WWW-Authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/instances", "nurt_nope_nope").status, 401);
  std::string tampered = admin_;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(Call("GET", "/v1/instances", tampered).status, 401);
  EXPECT_EQ(Call("GET", "/v1/me", admin_).body["org"], "acme");
  // The probes need no key.
  EXPECT_EQ(Call("GET", "/healthz", "").status, 200);
  EXPECT_EQ(Call("GET", "/readyz", "").status, 200);
}

TEST_F(DaemonTest, ScopesAreEnforcedAndWriteImpliesRead) {
  const std::string id = StartLead(admin_);
  const std::string reader = NewKey("acme", "reader", {"read:instances"});
  const std::string writer = NewKey("acme", "writer", {"write:events"});
  EXPECT_EQ(Call("GET", "/v1/instances/" + id, reader).status, 200);
  ApiResponse denied = Call("POST", "/v1/instances/" + id + "/events", reader, Json{{"event", "note"}});
  EXPECT_EQ(denied.status, 403) << denied;
  EXPECT_EQ(denied.body["error"]["details"]["requiredScope"], "write:events");
  EXPECT_EQ(Call("GET", "/v1/instances/" + id, writer).status, 200);  // write:events implies read:instances
  EXPECT_EQ(Call("POST", "/v1/instances/" + id + "/events", writer,
                 Json{{"event", "note"}, {"data", {{"text", "hi"}}}}).status, 200);
  EXPECT_EQ(Call("POST", "/v1/instances/" + id + "/cancel", writer, Json{{"reason", "x"}}).status, 403);
  EXPECT_EQ(Call("GET", "/v1/keys", writer).status, 403);
  EXPECT_EQ(Call("POST", "/v1/definitions", reader, Json{{"source", "x"}}).status, 403);
}

TEST_F(DaemonTest, RateLimitHeadersOnEveryResponseAnd429WithRetryAfter) {
  const std::string basic = NewKey("acme", "basic", {"read:instances"}, "", "basic");
  int last_remaining = 1000;
  for (int i = 0; i < 10; ++i) {
    ApiResponse r = Call("GET", "/v1/instances", basic);
    ASSERT_EQ(r.status, 200) << i << " " << r;
    EXPECT_EQ(r.Header("X-RateLimit-Limit"), "60");
    const int remaining = std::stoi(r.Header("X-RateLimit-Remaining"));
    EXPECT_LT(remaining, last_remaining);
    last_remaining = remaining;
    EXPECT_FALSE(r.Header("X-RateLimit-Reset").empty());
  }
  ApiResponse limited = Call("GET", "/v1/instances", basic);
  ASSERT_EQ(limited.status, 429) << limited;
  EXPECT_EQ(limited.body["error"]["code"], "rate_limited");
  EXPECT_EQ(limited.Header("X-RateLimit-Remaining"), "0");
  EXPECT_EQ(limited.Header("Retry-After"), "1");  // 60/min refills one request per second
  // Another key is not affected; virtual time refills this one.
  EXPECT_EQ(Call("GET", "/v1/instances", admin_).status, 200);
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(Call("GET", "/v1/instances", basic).status, 200);
}

TEST_F(DaemonTest, KeysThroughTheApiLifecycleAndAudit) {
  ApiResponse created = Call("POST", "/v1/keys", admin_,
                             Json{{"name", "crm"}, {"scopes", {"write:instances", "write:events"}}, {"reason", "CRM sync"}});
  ASSERT_EQ(created.status, 201) << created;
  const std::string token = created.body["token"];
  const std::string key_id = created.body["key"]["id"];
  EXPECT_EQ(created.body["key"].count("secretHash"), 0u);
  EXPECT_EQ(Call("GET", "/v1/instances", token).status, 200);

  ApiResponse list = Call("GET", "/v1/keys", admin_);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.text.find(token.substr(token.size() - 20)), std::string::npos) << "a secret leaked into the list";

  EXPECT_EQ(Call("POST", "/v1/keys/" + key_id + "/suspend", admin_, Json{{"reason", "audit"}}).status, 200);
  EXPECT_EQ(Call("GET", "/v1/instances", token).status, 401);
  EXPECT_EQ(Call("POST", "/v1/keys/" + key_id + "/activate", admin_).status, 200);
  EXPECT_EQ(Call("GET", "/v1/instances", token).status, 200);
  ApiResponse regenerated = Call("POST", "/v1/keys/" + key_id + "/regenerate", admin_, Json{{"reason", "leak"}});
  ASSERT_EQ(regenerated.status, 200) << regenerated;
  EXPECT_EQ(Call("GET", "/v1/instances", token).status, 401);
  EXPECT_EQ(Call("GET", "/v1/instances", regenerated.body["token"].get<std::string>()).status, 200);
  EXPECT_EQ(Call("PATCH", "/v1/keys/" + key_id, admin_, Json{{"expiresAt", "2026-01-02T00:00:00Z"}}).status, 200);
  clock_.Advance(std::chrono::hours(48));
  EXPECT_EQ(Call("GET", "/v1/instances", regenerated.body["token"].get<std::string>()).status, 401);
  EXPECT_EQ(Call("POST", "/v1/keys/" + key_id + "/revoke", admin_, Json{{"reason", "done"}}).status, 200);

  // A key manager cannot mint scopes it does not hold.
  const std::string manager = NewKey("acme", "manager", {"keys:manage", "read:instances"});
  ApiResponse escalate = Call("POST", "/v1/keys", manager, Json{{"name", "x"}, {"scopes", {"admin:override"}}});
  EXPECT_EQ(escalate.status, 403) << escalate;

  ApiResponse audit = Call("GET", "/v1/audit", admin_);
  ASSERT_EQ(audit.status, 200) << audit;
  std::string actions;
  for (const auto& a : audit.body["items"]) actions += a["action"].get<std::string>() + " ";
  for (const char* want : {"key.create", "key.suspend", "key.activate", "key.regenerate", "key.revoke"}) {
    EXPECT_NE(actions.find(want), std::string::npos) << want << " missing from: " << actions;
  }
  EXPECT_NE(audit.text.find("key:acme-admin"), std::string::npos);
}

// Every route with an id, called by another organisation's admin on this organisation's objects,
// answers 404 — as if the object did not exist.
TEST_F(DaemonTest, AnotherOrganisationSeesNothing) {
  const std::string id = StartLead(admin_);
  ApiResponse key = Call("POST", "/v1/keys", admin_, Json{{"name", "victim"}, {"scopes", {"read:instances"}}});
  const std::string key_id = key.body["key"]["id"];
  const Json override_body = {{"reason", "x"}, {"state", "qualified"}};
  // A lead opens a "Qualify the lead" task in its first state.
  ApiResponse shown = Call("GET", "/v1/instances/" + id, admin_);
  ASSERT_EQ(shown.body["tasks"].size(), 1u) << shown;
  const std::string task = shown.body["tasks"][0]["id"];
  struct Probe {
    std::string method, path;
    Json body;
  };
  std::vector<Probe> probes = {
      {"GET", "/v1/instances/" + id, nullptr},
      {"GET", "/v1/instances/" + id + "/history", nullptr},
      {"POST", "/v1/instances/" + id + "/events", Json{{"event", "qualify"}}},
      {"POST", "/v1/instances/" + id + "/cancel", Json{{"reason", "x"}}},
      {"POST", "/v1/instances/" + id + "/suspend", Json{{"reason", "x"}}},
      {"POST", "/v1/instances/" + id + "/resume", Json{{"reason", "x"}}},
      {"POST", "/v1/instances/" + id + "/skip", Json{{"reason", "x"}}},
      {"POST", "/v1/instances/" + id + "/force", override_body},
      {"POST", "/v1/instances/" + id + "/retry", Json{{"reason", "x"}}},
      {"GET", "/v1/exports/events?instance=" + id, nullptr},
      {"GET", "/v1/tasks/" + task, nullptr},
      {"POST", "/v1/tasks/" + task + "/claim", Json::object()},
      {"POST", "/v1/tasks/" + task + "/release", Json::object()},
      {"POST", "/v1/tasks/" + task + "/links", Json::object()},
      {"POST", "/v1/tasks/" + task + "/complete", Json{{"decision", "drop"}}},
      {"GET", "/v1/keys/" + key_id, nullptr},
      {"PATCH", "/v1/keys/" + key_id, Json{{"expiresAt", nullptr}}},
      {"POST", "/v1/keys/" + key_id + "/suspend", Json::object()},
      {"POST", "/v1/keys/" + key_id + "/activate", Json::object()},
      {"POST", "/v1/keys/" + key_id + "/revoke", Json::object()},
      {"POST", "/v1/keys/" + key_id + "/regenerate", Json::object()},
  };
  for (const auto& p : probes) {
    ApiResponse r = Call(p.method, p.path, other_admin_, p.body);
    EXPECT_EQ(r.status, 404) << p.method << " " << p.path << " -> " << r;
  }
  // Lists and exports of the other organisation do not contain it.
  for (const char* path : {"/v1/instances", "/v1/exports/instances?format=csv", "/v1/exports/events",
                           "/v1/keys", "/v1/audit", "/v1/tasks?status=active"}) {
    ApiResponse r = Call("GET", path, other_admin_);
    EXPECT_EQ(r.status, 200) << path << " " << r;
    EXPECT_EQ(r.text.find(id), std::string::npos) << path;
    EXPECT_EQ(r.text.find(key_id), std::string::npos) << path;
    EXPECT_EQ(r.text.find(task), std::string::npos) << path;
  }
  EXPECT_EQ(Call("GET", "/v1/tasks/" + task, admin_).body["status"], "open");
  // And the instance is untouched.
  EXPECT_EQ(Call("GET", "/v1/instances/" + id, admin_).body["version"], 1);
}

TEST_F(DaemonTest, MetricsCountRequestsEventsAndInstances) {
  const std::string id = StartLead(admin_);
  ASSERT_EQ(Call("POST", "/v1/instances/" + id + "/events", admin_, Json{{"event", "note"}, {"data", {{"text", "x"}}}}).status, 200);
  ApiResponse m = Call("GET", "/metrics", "");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.text.find("nurt_http_requests_total{"), std::string::npos);
  EXPECT_NE(m.text.find("route=\"/v1/instances/{id}/events\""), std::string::npos) << m.text;
  EXPECT_NE(m.text.find("nurt_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(m.text.find("nurt_events_accepted_total{machine=\"lead\"} 2"), std::string::npos) << m.text;
  EXPECT_NE(m.text.find("nurt_transitions_total{machine=\"lead\"}"), std::string::npos);
  EXPECT_TRUE(std::regex_search(m.text, std::regex(R"(nurt_instances\{[^}]*machine="lead"[^}]*state="new"[^}]*\} 1)")))
      << m.text;
}

}  // namespace
}  // namespace nurt::daemon
