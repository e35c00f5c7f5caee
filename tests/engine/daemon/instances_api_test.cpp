// Instances, events, definitions and exports through real HTTP on loopback.

#include "daemon_fixture.hpp"

namespace nurt::daemon {
namespace {

const Json kQualify = {{"event", "qualify"},
                       {"data", {{"budget_grosze", 4500000}, {"roof_area_m2", 48}, {"region", "dolnoslaskie"}}}};

TEST_F(DaemonTest, StartShowSendAndHistoryCarryActorAndTrace) {
  const std::string id = StartLead(admin_);
  ApiResponse show = Call("GET", "/v1/instances/" + id, admin_);
  ASSERT_EQ(show.status, 200) << show;
  EXPECT_EQ(show.body["state"], Json::array({"new"}));
  EXPECT_EQ(show.body["runStatus"], "active");
  EXPECT_NE(std::find(show.body["acceptedEvents"].begin(), show.body["acceptedEvents"].end(), "qualify"),
            show.body["acceptedEvents"].end());
  EXPECT_EQ(show.body["context"]["source"], "web");

  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  ApiResponse sent = Call("POST", "/v1/instances/" + id + "/events", admin_, kQualify,
                          {{"traceparent", "00-" + trace + "-00f067aa0ba902b7-01"}, {"Idempotency-Key", "q-1"}});
  ASSERT_EQ(sent.status, 200) << sent;
  EXPECT_EQ(sent.body["state"], Json::array({"qualified"}));
  EXPECT_EQ(sent.Header("traceparent").substr(0, 35), "00-" + trace);

  ApiResponse history = Call("GET", "/v1/instances/" + id + "/history", admin_);
  ASSERT_EQ(history.status, 200) << history;
  ASSERT_EQ(history.body["events"].size(), 2u);
  const Json& ev = history.body["events"][1];
  EXPECT_EQ(ev["type"], "qualify");
  EXPECT_EQ(ev["actor"], "key:acme-admin");
  EXPECT_EQ(ev["meta"]["traceId"], trace);
  EXPECT_FALSE(history.body["transitions"].empty());
}

TEST_F(DaemonTest, IdempotencyKeyReplaysAndRefusesADifferentBody) {
  const std::string id = StartLead(admin_);
  const std::string path = "/v1/instances/" + id + "/events";
  ApiResponse first = Call("POST", path, admin_, kQualify, {{"Idempotency-Key", "k1"}});
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_FALSE(first.body["replayed"].get<bool>());
  ApiResponse again = Call("POST", path, admin_, kQualify, {{"Idempotency-Key", "k1"}});
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_TRUE(again.body["replayed"].get<bool>());
  EXPECT_EQ(again.body["version"], first.body["version"]);
  EXPECT_EQ(again.body["eventId"], first.body["eventId"]);

  Json other = kQualify;
  other["data"]["roof_area_m2"] = 50;
  ApiResponse mismatch = Call("POST", path, admin_, other, {{"Idempotency-Key", "k1"}});
  EXPECT_EQ(mismatch.status, 422) << mismatch;
  EXPECT_EQ(mismatch.body["error"]["code"], "idempotency_key_reused");
  EXPECT_EQ(Call("GET", "/v1/instances/" + id + "/history", admin_).body["events"].size(), 2u);

  // Starts too: the same key starts one instance.
  Json start = {{"machine", "lead"}, {"data", {{"source", "web"}, {"contact", {{"name", "B"}, {"email", "b@x.pl"}}}}}};
  ApiResponse s1 = Call("POST", "/v1/instances", admin_, start, {{"Idempotency-Key", "start-1"}});
  ApiResponse s2 = Call("POST", "/v1/instances", admin_, start, {{"Idempotency-Key", "start-1"}});
  EXPECT_EQ(s1.status, 201) << s1;
  EXPECT_EQ(s2.status, 200) << s2;
  EXPECT_EQ(s1.body["instanceId"], s2.body["instanceId"]);
}

TEST_F(DaemonTest, RefusedEventIs409WithTheAcceptedEvents) {
  const std::string id = StartLead(admin_);
  ApiResponse r = Call("POST", "/v1/instances/" + id + "/events", admin_, Json{{"event", "win"}});
  ASSERT_EQ(r.status, 409) << r;
  EXPECT_EQ(r.body["error"]["code"], "event_not_accepted");
  const Json& accepted = r.body["error"]["details"]["acceptedEvents"];
  EXPECT_NE(std::find(accepted.begin(), accepted.end(), "qualify"), accepted.end()) << accepted;
}

TEST_F(DaemonTest, BadBodiesAnswer400WithAJsonPointer) {
  const std::string id = StartLead(admin_);
  const std::string path = "/v1/instances/" + id + "/events";
  ApiResponse malformed =
      CallRaw("POST", path, admin_, "{\"event\": \"qualify\", \"data\": {\"budget_grosze\": 45x}}");
  ASSERT_EQ(malformed.status, 400) << malformed;
  EXPECT_EQ(malformed.body["error"]["code"], "malformed_json");
  EXPECT_EQ(malformed.body["error"]["pointer"], "/data/budget_grosze");

  ApiResponse wrong_type = Call("POST", path, admin_, Json{{"event", "qualify"}, {"data", "x"}});
  EXPECT_EQ(wrong_type.status, 400) << wrong_type;
  EXPECT_EQ(wrong_type.body["error"]["pointer"], "/data");
  ApiResponse unknown = Call("POST", path, admin_, Json{{"evnt", "qualify"}});
  EXPECT_EQ(unknown.status, 400) << unknown;
  EXPECT_EQ(unknown.body["error"]["pointer"], "/evnt");
  ApiResponse schema = Call("POST", "/v1/instances", admin_, Json{{"machine", "lead"}, {"data", {{"source", "tv"}}}});
  EXPECT_EQ(schema.status, 422) << schema;
  EXPECT_EQ(Call("GET", "/v1/instances/nope", admin_).status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/instances/" + id, admin_).status, 405);
}

TEST_F(DaemonTest, BodyOverTheLimitIs413AndNothingIsWritten) {
  daemon_->Shutdown();
  daemon_.reset();
  client_.reset();
  StartDaemon([](server::DaemonConfig& c) { c.max_body_bytes = 4096; });
  const std::string id = StartLead(admin_);
  Json big = kQualify;
  big["data"]["notes"] = std::string(8000, 'x');
  ApiResponse r = Call("POST", "/v1/instances/" + id + "/events", admin_, big);
  EXPECT_EQ(r.status, 413) << r;
  client_.reset();  // the server may close after a 413
  EXPECT_EQ(Call("GET", "/v1/instances/" + id, admin_).body["version"], 1);
}

TEST_F(DaemonTest, ListFiltersByMachineStateContextWithCursorPages) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(StartLead(admin_));
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Call("POST", "/v1/instances/" + ids[i] + "/events", admin_, kQualify).status, 200);
  }
  ApiResponse qualified = Call("GET", "/v1/instances?machine=lead&state=qualified", admin_);
  ASSERT_EQ(qualified.status, 200) << qualified;
  EXPECT_EQ(qualified.body["items"].size(), 3u);
  ApiResponse where = Call("GET", "/v1/instances?machine=lead&where=region=dolnoslaskie&where=roof_area_m2=48", admin_);
  ASSERT_EQ(where.status, 200) << where;
  EXPECT_EQ(where.body["items"].size(), 3u);
  EXPECT_EQ(Call("GET", "/v1/instances?where=region=opolskie", admin_).body["items"].size(), 0u);

  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    ApiResponse r = Call("GET", "/v1/instances?machine=lead&limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), admin_);
    ASSERT_EQ(r.status, 200) << r;
    for (const auto& item : r.body["items"]) seen.push_back(item["id"]);
    if (r.body["nextCursor"].is_null()) break;
    cursor = r.body["nextCursor"];
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(Call("GET", "/v1/instances?limit=0", admin_).status, 400);
}

TEST_F(DaemonTest, ExportsAreExcelFriendlyCsvAndJson) {
  const std::string id = StartLead(admin_);
  ASSERT_EQ(Call("POST", "/v1/instances/" + id + "/events", admin_, kQualify).status, 200);
  ApiResponse csv = Call("GET", "/v1/exports/instances?format=csv&machine=lead", admin_);
  ASSERT_EQ(csv.status, 200) << csv;
  EXPECT_EQ(csv.text.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_NE(csv.Header("Content-Type").find("text/csv"), std::string::npos);
  EXPECT_NE(csv.Header("Content-Disposition").find("instances.csv"), std::string::npos);
  EXPECT_NE(csv.text.find(id), std::string::npos);
  EXPECT_NE(csv.text.find("\r\n"), std::string::npos);
  ApiResponse events = Call("GET", "/v1/exports/events?format=json&instance=" + id, admin_);
  ASSERT_EQ(events.status, 200) << events;
  ASSERT_EQ(events.body["events"].size(), 2u);
  EXPECT_EQ(events.body["events"][1]["type"], "qualify");
  ApiResponse events_csv = Call("GET", "/v1/exports/events?format=csv", admin_);
  EXPECT_NE(events_csv.text.find("qualify"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/exports/events?format=xls", admin_).status, 400);
}

const char* kTicketV1 = R"(apiVersion: nurt/v1
kind: Machine
name: ticket
version: 1
initial: open
states:
  open:
    on:
      close: closed
  closed:
    type: final
)";

TEST_F(DaemonTest, DefinitionsUploadValidateAndVersions) {
  ApiResponse bad = Call("POST", "/v1/definitions", admin_,
                         Json{{"file", "ticket.yaml"}, {"source", std::string(kTicketV1) + "    on: {x: nowhere}\n"}});
  ASSERT_EQ(bad.status, 422) << bad;
  EXPECT_EQ(bad.body["error"]["code"], "invalid_definition");
  ASSERT_FALSE(bad.body["error"]["details"]["diagnostics"].empty());
  EXPECT_NE(bad.body["error"]["message"].get<std::string>().find("ticket.yaml:"), std::string::npos) << bad;

  ApiResponse v1 = Call("POST", "/v1/definitions", admin_, Json{{"file", "ticket.yaml"}, {"source", kTicketV1}});
  ASSERT_EQ(v1.status, 201) << v1;
  EXPECT_EQ(Call("POST", "/v1/definitions", admin_, Json{{"source", kTicketV1}}).status, 200);
  std::string changed = kTicketV1;
  changed.replace(changed.find("close: closed"), 13, "done: closed");
  ApiResponse clash = Call("POST", "/v1/definitions", admin_, Json{{"source", changed}});
  EXPECT_EQ(clash.status, 409) << clash;

  ApiResponse started = Call("POST", "/v1/instances", admin_, Json{{"machine", "ticket"}});
  ASSERT_EQ(started.status, 201) << started;
  const std::string id = started.body["instanceId"];
  std::string v2 = changed;
  v2.replace(v2.find("version: 1"), 10, "version: 2");
  ASSERT_EQ(Call("POST", "/v1/definitions", admin_, Json{{"source", v2}}).status, 201);
  // The running instance stays on v1 (it still takes `close`); a new one gets v2.
  EXPECT_EQ(Call("POST", "/v1/instances/" + id + "/events", admin_, Json{{"event", "close"}}).status, 200);
  ApiResponse fresh = Call("POST", "/v1/instances", admin_, Json{{"machine", "ticket"}});
  EXPECT_EQ(fresh.body["machineVersion"], 2);

  ApiResponse list = Call("GET", "/v1/definitions?name=ticket", admin_);
  ASSERT_EQ(list.body["items"].size(), 2u);
  EXPECT_EQ(list.body["items"][0]["version"], 2);
  ApiResponse show = Call("GET", "/v1/definitions/ticket?version=1", admin_);
  EXPECT_EQ(show.body["source"], kTicketV1);
  ApiResponse diagram = Call("GET", "/v1/definitions/lead/diagram", admin_);
  EXPECT_EQ(diagram.status, 200);
  EXPECT_NE(diagram.text.find("stateDiagram"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/definitions/nope", admin_).status, 404);
}

}  // namespace
}  // namespace nurt::daemon

namespace nurt::daemon {
namespace {

// The largest page every list route allows is served (the stores cap one read at 1000 rows, and a
// page reads one row more than it returns).
TEST_F(DaemonTest, TheLargestPageIsServedByEveryList) {
  for (const char* path : {"/v1/instances?limit=500", "/v1/tasks?limit=500", "/v1/audit?limit=500"}) {
    ApiResponse r = Call("GET", path, admin_);
    EXPECT_EQ(r.status, 200) << path << " " << r;
  }
  EXPECT_EQ(Call("GET", "/v1/tasks?limit=501", admin_).status, 400);
}

}  // namespace
}  // namespace nurt::daemon
