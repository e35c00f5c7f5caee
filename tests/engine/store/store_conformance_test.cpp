// The Store conformance suite (see store_conformance.hpp): what every Store implementation promises
// — round trips, one atomic transaction per commit, optimistic concurrency, typed errors, tenant
// isolation, list filters and cursors, definition versioning, the outbox lifecycle, batches, thread
// safety and durability across a SIGKILL.
#include "tests/engine/store/store_conformance.hpp"

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <latch>
#include <limits>
#include <map>
#include <thread>

namespace nurt::store {

void StoreConformanceTest::SetUp() {
  harness_ = GetParam().make();
  ASSERT_NE(harness_, nullptr);
  auto s = harness_->Open();
  ASSERT_TRUE(s.ok()) << s.status();
  store_ = std::move(s).value();
}

void StoreConformanceTest::TearDown() {
  store_.reset();
  harness_.reset();
}

void StoreConformanceTest::Reopen() {
  store_.reset();
  auto s = harness_->Open();
  ASSERT_TRUE(s.ok()) << s.status();
  store_ = std::move(s).value();
}

namespace {

constexpr const char* kOrg = "acme";
constexpr const char* kOtherOrg = "globex";

TimePoint T(std::int64_t ms) { return FromUnixMillis(1'700'000'000'000 + ms); }

std::string N(std::int64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(n));
  return buf;
}

// A commit that moves `id` from version `from` to from+1: one event (sequence from+1), two
// transitions, one outbox item and an idempotency record, all with ids derived from (org, id,
// version).
CommitRequest Step(const std::string& org, const std::string& id, std::int64_t from,
                   std::vector<std::string> state = {"open"}) {
  const std::int64_t v = from + 1;
  const std::string tag = org + "/" + id + "/" + N(v);
  CommitRequest r;
  r.org_id = org;
  r.instance_id = id;
  r.expected_version = from;
  r.instance.org_id = org;
  r.instance.id = id;
  r.instance.machine = "order";
  r.instance.machine_version = 1;
  r.instance.run_status = "active";
  r.instance.state = std::move(state);
  r.instance.snapshot = Json{{"v", v}, {"context", {{"n", v}}}};
  r.instance.version = v;
  r.instance.created_at = T(v);
  r.instance.updated_at = T(v);

  EventEnvelope e;
  e.id = "evt-" + tag;
  e.org_id = org;
  e.type = from == 0 ? "nurt.start" : "tick";
  e.occurred_at = T(v);
  e.actor = "cli:alice";
  e.entity_type = "order";
  e.entity_id = id;
  e.payload = Json{{"v", v}};
  e.trace_id = "trace-" + tag;
  e.idempotency_key = "key-" + tag;
  e.sequence = v;
  r.events = {e};

  for (int s = 0; s < 2; ++s) {
    TransitionRecord t;
    t.event_sequence = v;
    t.step = s;
    t.event = e.type;
    t.from = {"open"};
    t.to = r.instance.state;
    t.source = "open";
    t.targets = r.instance.state;
    t.detail = Json{{"step", s}};
    r.transitions.push_back(t);
  }

  OutboxItem o;
  o.id = "out-" + tag;
  o.org_id = org;
  o.instance_id = id;
  o.event_sequence = v;
  o.kind = "nurt.send";
  o.payload = Json{{"to", "peer"}, {"v", v}};
  o.idempotency_key = "effect-" + tag;
  o.created_at = T(v);
  r.outbox = {o};

  r.idempotency =
      IdempotencyRecord{org, id, "key-" + tag, "hash-" + tag, Json{{"version", v}}, T(v)};
  return r;
}

#define ASSERT_OK(expr)                            \
  do {                                             \
    auto _st = (expr);                             \
    ASSERT_TRUE(_st.ok()) << #expr << ": " << _st; \
  } while (0)

// Everything a store holds about one instance, as one JSON value: comparing two footprints checks
// every table (instance row, state index, events, transitions, outbox, idempotency).
Json Footprint(Store* store, const std::string& org, const std::string& id,
               const CommitRequest& attempted) {
  Json f = Json::object();
  auto rec = store->GetInstance(org, id);
  f["instance"] = rec.ok() ? Json{{"version", rec->version},
                                  {"snapshot", rec->snapshot},
                                  {"state", rec->state},
                                  {"run_status", rec->run_status}}
                           : Json(rec.status().ToString());
  std::vector<std::string> states = attempted.instance.state;
  if (rec.ok()) states.insert(states.end(), rec->state.begin(), rec->state.end());
  for (const std::string& s : states) {
    InstanceFilter filter;
    filter.state = s;
    auto list = store->ListInstances(org, filter);
    bool listed = false;
    if (list.ok()) {
      for (const auto& r : *list) listed = listed || r.id == id;
    }
    f["in_state"][s] = list.ok() ? Json(listed) : Json(list.status().ToString());
  }
  auto events = store->ListEvents(org, id);
  f["events"] = Json::array();
  if (events.ok()) {
    for (const auto& e : *events) f["events"].push_back(e.ToJson());
  }
  auto ts = store->ListTransitions(org, id);
  f["transitions"] = ts.ok() ? Json(ts->size()) : Json(ts.status().ToString());
  auto out = store->ListPendingOutbox({}, 10000);
  f["outbox"] = Json::array();
  if (out.ok()) {
    for (const auto& o : *out) {
      if (o.org_id == org && o.instance_id == id) f["outbox"].push_back(o.id);
    }
  }
  if (attempted.idempotency) {
    auto k =
        store->FindIdempotency(org, attempted.idempotency->instance_id, attempted.idempotency->key);
    f["idempotency"] = k.ok() ? Json(k->has_value()) : Json(k.status().ToString());
  }
  return f;
}

// ---------------------------------------------------------------------------------------------------
// Round trips

TEST_P(StoreConformanceTest, EveryRecordTypeRoundTrips) {
  const Json tricky = Json::parse(R"({
      "unicode": "zażółć gęślą jaźń — 日本語 — 🚀",
      "escapes": "quote \" backslash \\ newline \n tab \t nul-free",
      "int": 1, "float": 1.0, "half": 0.5, "negative": -42, "neg_zero": -0.0,
      "big": 9007199254740993, "max_u64": 18446744073709551615, "min_i64": -9223372036854775808,
      "nested": {"z": [1, [2, {"deep": null}]], "a": {"b": {"c": true}}},
      "empty_obj": {}, "empty_arr": [], "empty_str": ""
  })");
  CommitRequest r = Step(kOrg, "I1", 0, {"a.x", "ä/ü"});
  r.instance.snapshot = tricky;
  r.instance.run_status = "suspended";
  r.instance.machine_version = 7;
  r.instance.created_at = T(-5);
  r.instance.updated_at = T(123);
  r.events[0].payload = tricky;
  r.events[0].schema_version = 3;
  r.events[0].causation_id = "evt-cause";
  r.events[0].occurred_at = T(999);
  r.transitions[0].event = "";
  r.transitions[0].targets = {};
  r.transitions[0].detail = tricky;
  r.transitions[1].from = {"p.a", "p.b"};
  r.outbox[0].payload = tricky;
  r.outbox[0].kind = "nurt.spawn";
  r.idempotency->response = tricky;
  ASSERT_OK(store_->Commit(r));

  auto rec = store_->GetInstance(kOrg, "I1");
  ASSERT_TRUE(rec.ok()) << rec.status();
  EXPECT_EQ(rec->org_id, kOrg);
  EXPECT_EQ(rec->id, "I1");
  EXPECT_EQ(rec->machine, "order");
  EXPECT_EQ(rec->machine_version, 7);
  EXPECT_EQ(rec->run_status, "suspended");
  EXPECT_EQ(rec->state, (std::vector<std::string>{"a.x", "ä/ü"}));
  EXPECT_EQ(rec->snapshot, tricky);
  EXPECT_EQ(rec->snapshot.dump(), tricky.dump());  // key order and number kinds survive
  EXPECT_TRUE(rec->snapshot["int"].is_number_integer());
  EXPECT_TRUE(rec->snapshot["float"].is_number_float());
  EXPECT_TRUE(rec->snapshot["max_u64"].is_number_unsigned());
  EXPECT_EQ(rec->version, 1);
  EXPECT_EQ(rec->created_at, T(-5));
  EXPECT_EQ(rec->updated_at, T(123));

  auto events = store_->ListEvents(kOrg, "I1");
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->at(0).ToJson(), r.events[0].ToJson());
  EXPECT_EQ(events->at(0).occurred_at, T(999));
  EXPECT_EQ(events->at(0).payload.dump(), tricky.dump());

  auto ts = store_->ListTransitions(kOrg, "I1");
  ASSERT_TRUE(ts.ok()) << ts.status();
  ASSERT_EQ(ts->size(), 2u);
  for (int i = 0; i < 2; ++i) {
    const TransitionRecord& want = r.transitions[i];
    const TransitionRecord& got = ts->at(i);
    EXPECT_EQ(got.event_sequence, want.event_sequence);
    EXPECT_EQ(got.step, want.step);
    EXPECT_EQ(got.event, want.event);
    EXPECT_EQ(got.from, want.from);
    EXPECT_EQ(got.to, want.to);
    EXPECT_EQ(got.source, want.source);
    EXPECT_EQ(got.targets, want.targets);
    EXPECT_EQ(got.detail.dump(), want.detail.dump());
  }

  auto out = store_->ListPendingOutbox({}, 10);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  const OutboxItem& o = out->at(0);
  EXPECT_EQ(o.id, r.outbox[0].id);
  EXPECT_EQ(o.org_id, kOrg);
  EXPECT_EQ(o.instance_id, "I1");
  EXPECT_EQ(o.event_sequence, 1);
  EXPECT_EQ(o.kind, "nurt.spawn");
  EXPECT_EQ(o.payload.dump(), tricky.dump());
  EXPECT_EQ(o.idempotency_key, r.outbox[0].idempotency_key);
  EXPECT_EQ(o.created_at, r.outbox[0].created_at);
  EXPECT_EQ(o.status, "pending");
  EXPECT_TRUE(o.result.is_null());

  auto k = store_->FindIdempotency(kOrg, "I1", r.idempotency->key);
  ASSERT_TRUE(k.ok()) << k.status();
  ASSERT_TRUE(k->has_value());
  EXPECT_EQ((*k)->org_id, kOrg);
  EXPECT_EQ((*k)->instance_id, "I1");
  EXPECT_EQ((*k)->key, r.idempotency->key);
  EXPECT_EQ((*k)->request_hash, r.idempotency->request_hash);
  EXPECT_EQ((*k)->response.dump(), tricky.dump());
  EXPECT_EQ((*k)->created_at, r.idempotency->created_at);
  auto none = store_->FindIdempotency(kOrg, "I1", "never-used");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  DefinitionRecord d;
  d.org_id = kOrg;
  d.name = "order";
  d.version = 1;
  d.source_file = "workflows/order.yaml";
  d.source_text = "name: order\nversion: 1\n# ünïcödé\n";
  d.scripts = Json{{"actions/b.lua", "return 2"}, {"actions/a.lua", "return '🚀'"}};
  d.content_hash = "hash-1";
  d.created_at = T(77);
  ASSERT_OK(store_->PutDefinition(d));
  auto got = store_->GetDefinition(kOrg, "order", 1);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->org_id, d.org_id);
  EXPECT_EQ(got->name, d.name);
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(got->source_file, d.source_file);
  EXPECT_EQ(got->source_text, d.source_text);
  EXPECT_EQ(got->scripts.dump(), d.scripts.dump());
  EXPECT_EQ(got->content_hash, d.content_hash);
  EXPECT_EQ(got->created_at, d.created_at);
}

TEST_P(StoreConformanceTest, UpdateKeepsCreatedAtAndReplacesTheRest) {
  ASSERT_OK(store_->Commit(Step(kOrg, "I1", 0)));
  CommitRequest next = Step(kOrg, "I1", 1, {"shipped"});
  next.instance.created_at = T(500);  // ignored: an instance is created once
  next.instance.machine_version = 2;
  next.instance.run_status = "completed";
  ASSERT_OK(store_->Commit(next));
  auto rec = store_->GetInstance(kOrg, "I1");
  ASSERT_TRUE(rec.ok()) << rec.status();
  EXPECT_EQ(rec->version, 2);
  EXPECT_EQ(rec->created_at, T(1));
  EXPECT_EQ(rec->updated_at, T(2));
  EXPECT_EQ(rec->machine_version, 2);
  EXPECT_EQ(rec->run_status, "completed");
  EXPECT_EQ(rec->state, std::vector<std::string>{"shipped"});
  EXPECT_EQ(rec->snapshot["v"], 2);
  auto events = store_->ListEvents(kOrg, "I1");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(events->at(0).sequence, 1);
  EXPECT_EQ(events->at(1).sequence, 2);
}

TEST_P(StoreConformanceTest, ListEventsHonoursAfterAndUntil) {
  for (int v = 0; v < 5; ++v) ASSERT_OK(store_->Commit(Step(kOrg, "I1", v)));
  auto seqs = [&](std::int64_t after, std::int64_t until) {
    std::vector<std::int64_t> out;
    auto events = store_->ListEvents(kOrg, "I1", after, until);
    EXPECT_TRUE(events.ok()) << events.status();
    if (events.ok()) {
      for (const auto& e : *events) out.push_back(e.sequence);
    }
    return out;
  };
  EXPECT_EQ(seqs(0, 0), (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(seqs(2, 0), (std::vector<std::int64_t>{3, 4, 5}));
  EXPECT_EQ(seqs(0, 3), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(seqs(1, 4), (std::vector<std::int64_t>{2, 3, 4}));
  EXPECT_EQ(seqs(5, 0), (std::vector<std::int64_t>{}));
  auto ts = store_->ListTransitions(kOrg, "I1");
  ASSERT_TRUE(ts.ok());
  ASSERT_EQ(ts->size(), 10u);
  for (std::size_t i = 0; i < ts->size(); ++i) {
    EXPECT_EQ(ts->at(i).event_sequence, static_cast<std::int64_t>(i / 2 + 1));
    EXPECT_EQ(ts->at(i).step, static_cast<int>(i % 2));
  }
}

// ---------------------------------------------------------------------------------------------------
// Atomicity and typed errors

TEST_P(StoreConformanceTest, StartWhoseSecondTransitionIsInvalidWritesNothing) {
  CommitRequest r = Step(kOrg, "I1", 0);
  r.transitions[1].step = 0;  // duplicates step 0
  const Json before = Footprint(store_.get(), kOrg, "I1", r);
  Status st = store_->Commit(r);
  EXPECT_TRUE(st.IsInvalidArgument()) << st;
  EXPECT_NE(st.message().find("I1"), std::string::npos) << st;
  EXPECT_EQ(Footprint(store_.get(), kOrg, "I1", r), before);
  EXPECT_TRUE(store_->GetInstance(kOrg, "I1").status().IsNotFound());
  // The same request, fixed, then commits: the failure left no debris behind.
  r.transitions[1].step = 1;
  ASSERT_OK(store_->Commit(r));
}

TEST_P(StoreConformanceTest, UpdateWhoseSecondTransitionNamesAMissingEventWritesNothing) {
  ASSERT_OK(store_->Commit(Step(kOrg, "I1", 0)));
  CommitRequest r = Step(kOrg, "I1", 1, {"shipped"});
  r.transitions[1].event_sequence = 99;  // no such event in the log
  const Json before = Footprint(store_.get(), kOrg, "I1", r);
  Status st = store_->Commit(r);
  EXPECT_TRUE(st.IsInvalidArgument()) << st;
  const Json after = Footprint(store_.get(), kOrg, "I1", r);
  EXPECT_EQ(after, before);
  EXPECT_EQ(after["instance"].value("version", Json()), 1);
  EXPECT_EQ(after["in_state"].value("shipped", Json()), false);  // the state index rolled back too
  EXPECT_EQ(after["in_state"].value("open", Json()), true);
}

TEST_P(StoreConformanceTest, SecondOutboxRowCollidingWritesNothing) {
  ASSERT_OK(store_->Commit(Step(kOrg, "I1", 0)));
  CommitRequest r = Step(kOrg, "I1", 1);
  OutboxItem dup = r.outbox[0];
  dup.id = "out-second";  // new id, same idempotency key as the first item
  r.outbox.push_back(dup);
  const Json before = Footprint(store_.get(), kOrg, "I1", r);
  Status st = store_->Commit(r);
  EXPECT_TRUE(st.IsAlreadyExists()) << st;
  EXPECT_NE(st.message().find(dup.idempotency_key), std::string::npos) << st;
  EXPECT_EQ(Footprint(store_.get(), kOrg, "I1", r), before);

  // An outbox key already used by an earlier commit of the same org collides as well.
  CommitRequest again = Step(kOrg, "I1", 1);
  again.outbox[0].idempotency_key = Step(kOrg, "I1", 0).outbox[0].idempotency_key;
  st = store_->Commit(again);
  EXPECT_TRUE(st.IsAlreadyExists()) << st;
  EXPECT_EQ(Footprint(store_.get(), kOrg, "I1", again), before);

  // An outbox item whose id is taken.
  CommitRequest id_taken = Step(kOrg, "I1", 1);
  id_taken.outbox[0].id = Step(kOrg, "I1", 0).outbox[0].id;
  st = store_->Commit(id_taken);
  EXPECT_TRUE(st.IsAlreadyExists()) << st;
  EXPECT_EQ(Footprint(store_.get(), kOrg, "I1", id_taken), before);
}

TEST_P(StoreConformanceTest, IdempotencyKeyCollisionIsAlreadyExistsAndWritesNothing) {
  CommitRequest first = Step(kOrg, "I1", 0);
  ASSERT_OK(store_->Commit(first));
  CommitRequest r = Step(kOrg, "I1", 1, {"shipped"});
  r.idempotency->key = first.idempotency->key;  // committed meanwhile by someone else
  const Json before = Footprint(store_.get(), kOrg, "I1", r);
  Status st = store_->Commit(r);
  EXPECT_TRUE(st.IsAlreadyExists()) << st;
  EXPECT_NE(st.message().find(first.idempotency->key), std::string::npos) << st;
  EXPECT_EQ(Footprint(store_.get(), kOrg, "I1", r), before);
  auto k = store_->FindIdempotency(kOrg, "I1", first.idempotency->key);
  ASSERT_TRUE(k.ok() && k->has_value());
  EXPECT_EQ((*k)->request_hash, first.idempotency->request_hash);  // the original is untouched
}

TEST_P(StoreConformanceTest, OrgWideStartKeyCollisionIsAlreadyExistsAndCreatesNothing) {
  // Starts are idempotent per org: the engine scopes their keys to instance "".
  CommitRequest a = Step(kOrg, "I1", 0);
  a.idempotency->instance_id = "";
  a.idempotency->key = "import-row-17";
  ASSERT_OK(store_->Commit(a));
  CommitRequest b = Step(kOrg, "I2", 0);
  b.idempotency = a.idempotency;
  const Json before = Footprint(store_.get(), kOrg, "I2", b);
  Status st = store_->Commit(b);
  EXPECT_TRUE(st.IsAlreadyExists()) << st;
  EXPECT_EQ(Footprint(store_.get(), kOrg, "I2", b), before);
  EXPECT_TRUE(store_->GetInstance(kOrg, "I2").status().IsNotFound());
  auto k = store_->FindIdempotency(kOrg, "", "import-row-17");
  ASSERT_TRUE(k.ok() && k->has_value());
  EXPECT_TRUE(store_->FindIdempotency(kOrg, "I1", "import-row-17")->has_value() == false);
}

TEST_P(StoreConformanceTest, StartingAnExistingIdIsAlreadyExists) {
  ASSERT_OK(store_->Commit(Step(kOrg, "I1", 0)));
  CommitRequest again = Step(kOrg, "I1", 0);
  for (auto& e : again.events) e.id += "-again";
  for (auto& o : again.outbox) {
    o.id += "-again";
    o.idempotency_key += "-again";
  }
  again.idempotency->key += "-again";
  const Json before = Footprint(store_.get(), kOrg, "I1", again);
  Status st = store_->Commit(again);
  EXPECT_TRUE(st.IsAlreadyExists()) << st;
  EXPECT_NE(st.message().find("I1"), std::string::npos) << st;
  EXPECT_EQ(Footprint(store_.get(), kOrg, "I1", again), before);
}

TEST_P(StoreConformanceTest, StaleVersionIsConflictAndMissingInstanceIsNotFound) {
  ASSERT_OK(store_->Commit(Step(kOrg, "I1", 0)));
  ASSERT_OK(store_->Commit(Step(kOrg, "I1", 1)));
  CommitRequest stale = Step(kOrg, "I1", 1);
  stale.events[0].id += "-stale";
  stale.outbox[0].idempotency_key += "-stale";
  stale.outbox[0].id += "-stale";
  stale.idempotency->key += "-stale";
  const Json before = Footprint(store_.get(), kOrg, "I1", stale);
  Status st = store_->Commit(stale);
  EXPECT_TRUE(st.IsConflict()) << st;
  EXPECT_NE(st.message().find("version 2"), std::string::npos) << st;
  EXPECT_EQ(Footprint(store_.get(), kOrg, "I1", stale), before);

  Status missing = store_->Commit(Step(kOrg, "nope", 3));
  EXPECT_TRUE(missing.IsNotFound()) << missing;
}

TEST_P(StoreConformanceTest, ConstraintViolationsMapToTypedCodes) {
  ASSERT_OK(store_->Commit(Step(kOrg, "I1", 0)));

  CommitRequest reused_event_id = Step(kOrg, "I1", 1);
  reused_event_id.events[0].id = Step(kOrg, "I1", 0).events[0].id;
  EXPECT_TRUE(store_->Commit(reused_event_id).IsAlreadyExists());

  CommitRequest taken_sequence = Step(kOrg, "I1", 1);
  taken_sequence.events[0].sequence = 1;
  for (auto& t : taken_sequence.transitions) t.event_sequence = 1;
  EXPECT_TRUE(store_->Commit(taken_sequence).IsConflict());

  CommitRequest empty_outbox_key = Step(kOrg, "I1", 1);
  empty_outbox_key.outbox[0].idempotency_key = "";
  EXPECT_TRUE(store_->Commit(empty_outbox_key).IsInvalidArgument());

  CommitRequest bad_outbox_status = Step(kOrg, "I1", 1);
  bad_outbox_status.outbox[0].status = "maybe";
  EXPECT_TRUE(store_->Commit(bad_outbox_status).IsInvalidArgument());

  CommitRequest wrong_version = Step(kOrg, "I1", 1);
  wrong_version.instance.version = 5;
  EXPECT_TRUE(store_->Commit(wrong_version).IsInvalidArgument());

  CommitRequest foreign_event = Step(kOrg, "I1", 1);
  foreign_event.events[0].org_id = kOtherOrg;
  EXPECT_TRUE(store_->Commit(foreign_event).IsInvalidArgument());

  CommitRequest foreign_outbox = Step(kOrg, "I1", 1);
  foreign_outbox.outbox[0].instance_id = "I2";
  EXPECT_TRUE(store_->Commit(foreign_outbox).IsInvalidArgument());

  CommitRequest foreign_key = Step(kOrg, "I1", 1);
  foreign_key.idempotency->instance_id = "I2";
  EXPECT_TRUE(store_->Commit(foreign_key).IsInvalidArgument());

  CommitRequest invalid_utf8 = Step(kOrg, "I1", 1);
  invalid_utf8.events[0].payload["bad"] = std::string("\xff\xfe");
  EXPECT_TRUE(store_->Commit(invalid_utf8).IsInvalidArgument());

  // None of the refused requests left anything behind; the valid one still commits.
  auto events = store_->ListEvents(kOrg, "I1");
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 1u);
  ASSERT_OK(store_->Commit(Step(kOrg, "I1", 1)));
}

// ---------------------------------------------------------------------------------------------------
// Optimistic concurrency

TEST_P(StoreConformanceTest, TwoCommitsFromTheSameVersionExactlyOneWins) {
  ASSERT_OK(store_->Commit(Step(kOrg, "I1", 0)));
  constexpr int kRacers = 8;
  std::vector<CommitRequest> requests;
  for (int i = 0; i < kRacers; ++i) {
    CommitRequest r = Step(kOrg, "I1", 1);
    r.instance.snapshot["racer"] = i;
    r.events[0].id += "-" + std::to_string(i);
    r.outbox[0].id += "-" + std::to_string(i);
    r.outbox[0].idempotency_key += "-" + std::to_string(i);
    r.idempotency->key += "-" + std::to_string(i);
    requests.push_back(std::move(r));
  }
  std::vector<Status> results(kRacers);
  std::latch start(kRacers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = store_->Commit(requests[i]);
    });
  }
  for (auto& t : threads) t.join();
  int winner = -1;
  for (int i = 0; i < kRacers; ++i) {
    if (results[i].ok()) {
      EXPECT_EQ(winner, -1) << "two winners: " << winner << " and " << i;
      winner = i;
    } else {
      EXPECT_TRUE(results[i].IsConflict()) << results[i];
    }
  }
  ASSERT_NE(winner, -1);
  auto rec = store_->GetInstance(kOrg, "I1");
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->version, 2);
  EXPECT_EQ(rec->snapshot["racer"], winner);
  auto events = store_->ListEvents(kOrg, "I1");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(events->at(1).id, requests[winner].events[0].id);
  auto ts = store_->ListTransitions(kOrg, "I1");
  ASSERT_TRUE(ts.ok());
  EXPECT_EQ(ts->size(), 4u);
  for (int i = 0; i < kRacers; ++i) {
    auto k = store_->FindIdempotency(kOrg, "I1", requests[i].idempotency->key);
    ASSERT_TRUE(k.ok());
    EXPECT_EQ(k->has_value(), i == winner);
  }
}

TEST_P(StoreConformanceTest, ConcurrentWritersOnDifferentInstancesAllLand) {
  constexpr int kWriters = 4;
  constexpr int kCommitsEach = 30;
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::vector<Status> failures[kWriters];
  std::latch start(kWriters + 1);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      start.arrive_and_wait();
      const std::string id = "W" + std::to_string(w);
      for (int v = 0; v < kCommitsEach; ++v) {
        Status st = store_->Commit(Step(kOrg, id, v));
        if (!st.ok()) failures[w].push_back(st);
      }
    });
  }
  // A reader alongside: every instance it sees is internally consistent.
  std::vector<std::string> reader_errors;
  std::thread reader([&] {
    start.arrive_and_wait();
    while (!done.load()) {
      auto list = store_->ListInstances(kOrg, {});
      if (!list.ok()) {
        reader_errors.push_back(list.status().ToString());
        continue;
      }
      for (const auto& rec : *list) {
        if (rec.snapshot["v"] != rec.version) reader_errors.push_back("torn instance " + rec.id);
        auto events = store_->ListEvents(kOrg, rec.id);
        if (!events.ok() || static_cast<std::int64_t>(events->size()) < rec.version) {
          reader_errors.push_back("instance " + rec.id + " ahead of its events");
        }
      }
      reads.fetch_add(1);
    }
  });
  for (auto& t : threads) t.join();
  done.store(true);
  reader.join();
  for (int w = 0; w < kWriters; ++w) {
    for (const Status& st : failures[w]) ADD_FAILURE() << "writer " << w << ": " << st;
  }
  EXPECT_TRUE(reader_errors.empty()) << reader_errors.front();
  EXPECT_GT(reads.load(), 0);
  for (int w = 0; w < kWriters; ++w) {
    const std::string id = "W" + std::to_string(w);
    auto rec = store_->GetInstance(kOrg, id);
    ASSERT_TRUE(rec.ok()) << rec.status();
    EXPECT_EQ(rec->version, kCommitsEach);
    auto events = store_->ListEvents(kOrg, id);
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(events->size(), static_cast<std::size_t>(kCommitsEach));
    for (int i = 0; i < kCommitsEach; ++i) EXPECT_EQ(events->at(i).sequence, i + 1);
    auto ts = store_->ListTransitions(kOrg, id);
    ASSERT_TRUE(ts.ok());
    EXPECT_EQ(ts->size(), static_cast<std::size_t>(2 * kCommitsEach));
  }
  auto out = store_->ListPendingOutbox({}, 1000);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->size(), static_cast<std::size_t>(kWriters * kCommitsEach));
}

// ---------------------------------------------------------------------------------------------------
// Batches

TEST_P(StoreConformanceTest, BatchWhereTheMiddleRequestConflictsCommitsTheOthers) {
  ASSERT_OK(store_->Commit(Step(kOrg, "B", 0)));
  ASSERT_OK(store_->Commit(Step(kOrg, "B", 1)));
  CommitRequest stale = Step(kOrg, "B", 0);  // B is at version 2
  stale.events[0].id += "-stale";
  stale.outbox[0].id += "-stale";
  stale.outbox[0].idempotency_key += "-stale";
  stale.idempotency->key += "-stale";
  const Json b_before = Footprint(store_.get(), kOrg, "B", stale);
  std::vector<CommitRequest> batch = {Step(kOrg, "A", 0), stale, Step(kOrg, "C", 0)};
  std::vector<Status> statuses;
  ASSERT_OK(store_->CommitBatch(batch, &statuses));
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  EXPECT_TRUE(statuses[1].IsAlreadyExists() || statuses[1].IsConflict()) << statuses[1];
  EXPECT_TRUE(statuses[2].ok()) << statuses[2];
  EXPECT_EQ(Footprint(store_.get(), kOrg, "B", stale), b_before);
  for (const char* id : {"A", "C"}) {
    auto rec = store_->GetInstance(kOrg, id);
    ASSERT_TRUE(rec.ok()) << rec.status();
    EXPECT_EQ(rec->version, 1);
    EXPECT_EQ(store_->ListEvents(kOrg, id)->size(), 1u);
    EXPECT_EQ(store_->ListTransitions(kOrg, id)->size(), 2u);
    EXPECT_TRUE(store_->FindIdempotency(kOrg, id, Step(kOrg, id, 0).idempotency->key)->has_value());
  }

  // An update from a stale version in the middle: Conflict, neighbours commit.
  CommitRequest stale_update = Step(kOrg, "B", 1);
  stale_update.events[0].id += "-x";
  stale_update.outbox[0].id += "-x";
  stale_update.outbox[0].idempotency_key += "-x";
  stale_update.idempotency->key += "-x";
  batch = {Step(kOrg, "A", 1), stale_update, Step(kOrg, "C", 1)};
  ASSERT_OK(store_->CommitBatch(batch, &statuses));
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
  EXPECT_TRUE(statuses[1].IsConflict()) << statuses[1];
  EXPECT_TRUE(statuses[2].ok()) << statuses[2];
  EXPECT_EQ(store_->GetInstance(kOrg, "A")->version, 2);
  EXPECT_EQ(store_->GetInstance(kOrg, "B")->version, 2);
  EXPECT_EQ(store_->GetInstance(kOrg, "C")->version, 2);
}

TEST_P(StoreConformanceTest, BatchRequestFailingHalfwayLeavesNoDebrisOfItself) {
  CommitRequest broken = Step(kOrg, "B", 0);
  broken.transitions[1].step =
      0;  // fails after the instance, event and first transition were written
  const Json b_before = Footprint(store_.get(), kOrg, "B", broken);
  std::vector<Status> statuses;
  ASSERT_OK(store_->CommitBatch({Step(kOrg, "A", 0), broken, Step(kOrg, "C", 0)}, &statuses));
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_TRUE(statuses[1].IsInvalidArgument()) << statuses[1];
  EXPECT_TRUE(statuses[2].ok());
  EXPECT_EQ(Footprint(store_.get(), kOrg, "B", broken), b_before);
  InstanceFilter open;
  open.state = "open";
  auto list = store_->ListInstances(kOrg, open);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(list->at(0).id, "A");
  EXPECT_EQ(list->at(1).id, "C");
}

TEST_P(StoreConformanceTest, BatchAppliesRequestsInOrderSoOneInstanceCanAdvanceTwice) {
  std::vector<Status> statuses;
  ASSERT_OK(
      store_->CommitBatch({Step(kOrg, "A", 0), Step(kOrg, "A", 1), Step(kOrg, "A", 2)}, &statuses));
  for (const Status& st : statuses) EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(store_->GetInstance(kOrg, "A")->version, 3);
  ASSERT_OK(store_->CommitBatch({}, &statuses));
  EXPECT_TRUE(statuses.empty());
}

// ---------------------------------------------------------------------------------------------------
// Tenancy

TEST_P(StoreConformanceTest, TenantsNeverSeeEachOther) {
  ASSERT_OK(store_->Commit(Step(kOrg, "I1", 0)));
  DefinitionRecord d{kOrg, "order", 1, "order.yaml", "name: order", Json::object(), "h1", T(0)};
  ASSERT_OK(store_->PutDefinition(d));
  const CommitRequest start = Step(kOrg, "I1", 0);

  EXPECT_TRUE(store_->GetInstance(kOtherOrg, "I1").status().IsNotFound());
  InstanceFilter by_machine, by_state, by_status;
  by_machine.machine = "order";
  by_state.state = "open";
  by_status.run_status = "active";
  for (const InstanceFilter& f : {InstanceFilter{}, by_machine, by_state, by_status}) {
    auto list = store_->ListInstances(kOtherOrg, f);
    ASSERT_TRUE(list.ok());
    EXPECT_TRUE(list->empty());
    auto mine = store_->ListInstances(kOrg, f);
    ASSERT_TRUE(mine.ok());
    EXPECT_EQ(mine->size(), 1u);
  }
  auto k = store_->FindIdempotency(kOtherOrg, "I1", start.idempotency->key);
  ASSERT_TRUE(k.ok());
  EXPECT_FALSE(k->has_value());
  EXPECT_TRUE(store_->ListEvents(kOtherOrg, "I1")->empty());
  EXPECT_TRUE(store_->ListTransitions(kOtherOrg, "I1")->empty());
  EXPECT_TRUE(store_->GetDefinition(kOtherOrg, "order", 1).status().IsNotFound());
  EXPECT_TRUE(store_->GetDefinition(kOtherOrg, "order", 0).status().IsNotFound());
  EXPECT_TRUE(store_->ListDefinitions(kOtherOrg)->empty());
  Status st = store_->CompleteOutbox(kOtherOrg, start.outbox[0].id, "done", Json(true));
  EXPECT_TRUE(st.IsNotFound()) << st;
  EXPECT_EQ(store_->ListPendingOutbox({}, 10)->size(), 1u);
  Status other_update = store_->Commit(Step(kOtherOrg, "I1", 1));
  EXPECT_TRUE(other_update.IsNotFound()) << other_update;

  // The same ids in another org are another org's business: no collisions across tenants.
  ASSERT_OK(store_->Commit(Step(kOtherOrg, "I1", 0)));
  CommitRequest same_keys = Step(kOrg, "I1", 0);
  same_keys.org_id = kOtherOrg;
  same_keys.instance.org_id = kOtherOrg;
  same_keys.instance_id = same_keys.instance.id = "I2";
  for (auto& e : same_keys.events) {
    e.org_id = kOtherOrg;
    e.entity_id = "I2";
  }
  for (auto& o : same_keys.outbox) {
    o.org_id = kOtherOrg;
    o.instance_id = "I2";
  }
  same_keys.idempotency->org_id = kOtherOrg;
  same_keys.idempotency->instance_id = "I2";
  ASSERT_OK(store_->Commit(same_keys));  // event id, outbox id and key equal to acme's: fine
  ASSERT_OK(store_->PutDefinition(
      DefinitionRecord{kOtherOrg, "order", 1, "o.yaml", "other", Json::object(), "h-other", T(0)}));
  EXPECT_EQ(store_->GetDefinition(kOrg, "order", 1)->content_hash, "h1");
  EXPECT_EQ(store_->GetInstance(kOrg, "I1")->org_id, kOrg);
  EXPECT_EQ(store_->ListInstances(kOrg, {})->size(), 1u);
  EXPECT_EQ(store_->ListInstances(kOtherOrg, {})->size(), 2u);
}

// ---------------------------------------------------------------------------------------------------
// Lists

std::vector<std::string> Ids(const Result<std::vector<InstanceRecord>>& list) {
  std::vector<std::string> out;
  EXPECT_TRUE(list.ok()) << list.status();
  if (list.ok()) {
    for (const auto& r : *list) out.push_back(r.id);
  }
  return out;
}

TEST_P(StoreConformanceTest, ListInstancesFiltersAndPagesByIdCursor) {
  struct Spec {
    const char* id;
    const char* machine;
    const char* run_status;
    std::vector<std::string> state;
  };
  const std::vector<Spec> specs = {
      {"01H0000000000000000000000E", "order", "active", {"open"}},
      {"01H0000000000000000000000A", "order", "active", {"p.left", "p.right"}},
      {"01H0000000000000000000000C", "lead", "completed", {"won"}},
      {"01H0000000000000000000000B", "order", "suspended", {"open"}},
      {"01H0000000000000000000000F", "lead", "active", {"open"}},
      {"01H0000000000000000000000D", "order", "active", {"p.left", "p.done"}},
      {"01H0000000000000000000000G", "order", "active", {"open"}},
  };
  for (const Spec& s : specs) {
    CommitRequest r = Step(kOrg, s.id, 0, s.state);
    r.instance.machine = s.machine;
    r.instance.run_status = s.run_status;
    ASSERT_OK(store_->Commit(r));
  }
  auto list = [&](std::string machine, std::string state, std::string run_status) {
    InstanceFilter f;
    f.machine = std::move(machine);
    f.state = std::move(state);
    f.run_status = std::move(run_status);
    std::vector<std::string> out;
    for (const std::string& id : Ids(store_->ListInstances(kOrg, f))) out.push_back(id.substr(25));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(list("", "", ""), (V{"A", "B", "C", "D", "E", "F", "G"}));
  EXPECT_EQ(list("order", "", ""), (V{"A", "B", "D", "E", "G"}));
  EXPECT_EQ(list("lead", "", ""), (V{"C", "F"}));
  EXPECT_EQ(list("", "", "active"), (V{"A", "D", "E", "F", "G"}));
  EXPECT_EQ(list("", "open", ""), (V{"B", "E", "F", "G"}));
  EXPECT_EQ(list("", "p.left", ""), (V{"A", "D"}));
  EXPECT_EQ(list("", "p.right", ""), (V{"A"}));
  EXPECT_EQ(list("order", "", "active"), (V{"A", "D", "E", "G"}));
  EXPECT_EQ(list("order", "open", ""), (V{"B", "E", "G"}));
  EXPECT_EQ(list("order", "open", "active"), (V{"E", "G"}));
  EXPECT_EQ(list("", "open", "suspended"), (V{"B"}));
  EXPECT_EQ(list("nope", "", ""), (V{}));
  EXPECT_EQ(list("", "nope", ""), (V{}));

  // Pages of 2 by cursor, for every access path: together exactly the unpaged list, in id order.
  for (const InstanceFilter& base :
       {InstanceFilter{}, InstanceFilter{"order", "", "", "", 100},
        InstanceFilter{"", "open", "", "", 100}, InstanceFilter{"", "", "active", "", 100},
        InstanceFilter{"order", "open", "active", "", 100}}) {
    const std::vector<std::string> all = Ids(store_->ListInstances(kOrg, base));
    std::vector<std::string> paged;
    InstanceFilter f = base;
    f.limit = 2;
    for (int guard = 0; guard < 10; ++guard) {
      auto page = Ids(store_->ListInstances(kOrg, f));
      EXPECT_LE(page.size(), 2u);
      if (page.empty()) break;
      paged.insert(paged.end(), page.begin(), page.end());
      f.after_id = page.back();
    }
    EXPECT_EQ(paged, all) << "machine=" << base.machine << " state=" << base.state;
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  }

  // The state index follows updates: leaving "open" removes it from the "open" list.
  CommitRequest move = Step(kOrg, "01H0000000000000000000000E", 1, {"shipped"});
  ASSERT_OK(store_->Commit(move));
  EXPECT_EQ(list("", "open", ""), (V{"B", "F", "G"}));
  EXPECT_EQ(list("", "shipped", ""), (V{"E"}));

  InstanceFilter zero;
  zero.limit = 0;
  EXPECT_TRUE(store_->ListInstances(kOrg, zero).status().IsInvalidArgument());
}

TEST_P(StoreConformanceTest, ListInstancesFiltersByContextFields) {
  // id suffix -> context
  const std::vector<std::pair<std::string, Json>> contexts = {
      {"A", Json{{"customer", {{"nip", "123"}, {"vip", true}}}, {"total", 10}}},
      {"B", Json{{"customer", {{"nip", 123}, {"vip", false}}}, {"total", 10.0}}},
      {"C", Json{{"customer", {{"nip", "123"}}}, {"total", 12.5}}},
      {"D", Json{{"customer", "123"}, {"total", "10"}}},
      {"E", Json{{"customer", {{"nip", "123"}, {"vip", true}}}, {"total", 10}}},
      {"F", Json{{"other", 1}}},
  };
  for (const auto& [suffix, context] : contexts) {
    CommitRequest r = Step(kOrg, "01H000000000000000000000" + std::string("0") + suffix, 0);
    r.instance.snapshot = Json{{"configuration", {"open"}}, {"context", context}};
    if (suffix == "E") r.instance.machine = "lead";
    ASSERT_OK(store_->Commit(r));
  }
  auto list = [&](std::vector<std::pair<std::string, Json>> where, std::string machine = "",
                  int limit = 100) {
    InstanceFilter f;
    f.context_equals = std::move(where);
    f.machine = std::move(machine);
    f.limit = limit;
    std::vector<std::string> out;
    for (int guard = 0; guard < 10; ++guard) {  // walks every page
      auto page = Ids(store_->ListInstances(kOrg, f));
      for (const std::string& id : page) out.push_back(id.substr(25));
      if (page.empty() || static_cast<int>(page.size()) < limit) break;
      f.after_id = page.back();
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(list({{"customer.nip", "123"}}), (V{"A", "C", "E"}));         // nested, text
  EXPECT_EQ(list({{"customer.nip", 123}}), (V{"B"}));                     // wrong type never matches
  EXPECT_EQ(list({{"customer.vip", true}}), (V{"A", "E"}));               // bool is not 1
  EXPECT_EQ(list({{"customer.vip", false}}), (V{"B"}));
  EXPECT_EQ(list({{"customer.vip", 1}}), (V{}));
  EXPECT_EQ(list({{"total", 10}}), (V{"A", "B", "E"}));                   // 10 and 10.0 are one number
  EXPECT_EQ(list({{"total", 12.5}}), (V{"C"}));
  EXPECT_EQ(list({{"customer", "123"}}), (V{"D"}));
  EXPECT_EQ(list({{"missing.field", "x"}}), (V{}));                       // missing never matches
  EXPECT_EQ(list({{"customer.nip.deeper", "123"}}), (V{}));
  EXPECT_EQ(list({{"customer.nip", "123"}, {"customer.vip", true}}), (V{"A", "E"}));  // all must hold
  EXPECT_EQ(list({{"customer.nip", "123"}}, "order"), (V{"A", "C"}));
  EXPECT_EQ(list({{"customer.nip", "123"}}, "", 1), (V{"A", "C", "E"}));  // pages of 1 by cursor
  EXPECT_EQ(list({{"customer.nip", "123"}}, "order", 1), (V{"A", "C"}));

  InstanceFilter by_state;
  by_state.state = "open";
  by_state.run_status = "active";
  by_state.context_equals = {{"total", 10}};
  by_state.limit = 2;
  std::vector<std::string> paged;
  for (int guard = 0; guard < 10; ++guard) {
    auto page = Ids(store_->ListInstances(kOrg, by_state));
    if (page.empty()) break;
    for (const std::string& id : page) paged.push_back(id.substr(25));
    by_state.after_id = page.back();
  }
  EXPECT_EQ(paged, (V{"A", "B", "E"}));

  for (const Json& bad : {Json::object(), Json::array({1}), Json()}) {
    InstanceFilter f;
    f.context_equals = {{"customer", bad}};
    auto r = store_->ListInstances(kOrg, f);
    ASSERT_FALSE(r.ok()) << bad.dump();
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status();
  }
  for (const char* bad_path : {"", "a..b", ".a", "a\"b"}) {
    InstanceFilter f;
    f.context_equals = {{bad_path, "x"}};
    EXPECT_TRUE(store_->ListInstances(kOrg, f).status().IsInvalidArgument()) << bad_path;
  }
}

TEST_P(StoreConformanceTest, StateFilterMatchesCompoundAndParallelAncestors) {
  CommitRequest r = Step(kOrg, "01H0000000000000000000000A", 0, {"checking"});
  r.instance.snapshot = Json{{"configuration", {"review", "checking"}}, {"context", Json::object()}};
  ASSERT_OK(store_->Commit(r));
  CommitRequest p = Step(kOrg, "01H0000000000000000000000B", 0, {"left", "right"});
  p.instance.snapshot = Json{{"configuration", {"both", "left", "right"}}, {"context", Json::object()}};
  ASSERT_OK(store_->Commit(p));
  auto ids = [&](const std::string& state) {
    InstanceFilter f;
    f.state = state;
    std::vector<std::string> out;
    for (const std::string& id : Ids(store_->ListInstances(kOrg, f))) out.push_back(id.substr(25));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids("review"), (V{"A"}));
  EXPECT_EQ(ids("checking"), (V{"A"}));
  EXPECT_EQ(ids("both"), (V{"B"}));
  EXPECT_EQ(ids("right"), (V{"B"}));

  // Leaving the compound state removes it from the index.
  CommitRequest out = Step(kOrg, "01H0000000000000000000000A", 1, {"done"});
  out.instance.snapshot = Json{{"configuration", {"done"}}, {"context", Json::object()}};
  ASSERT_OK(store_->Commit(out));
  EXPECT_EQ(ids("review"), (V{}));
  EXPECT_EQ(ids("done"), (V{"A"}));
}

// ---------------------------------------------------------------------------------------------------
// Definitions

TEST_P(StoreConformanceTest, DefinitionVersionsArePublishedOnce) {
  auto def = [](std::int64_t version, std::string hash) {
    return DefinitionRecord{kOrg,
                            "order",
                            version,
                            "workflows/order.yaml",
                            "version: " + std::to_string(version),
                            Json::object(),
                            std::move(hash),
                            T(version)};
  };
  ASSERT_OK(store_->PutDefinition(def(1, "h1")));
  ASSERT_OK(store_->PutDefinition(def(3, "h3")));
  ASSERT_OK(store_->PutDefinition(def(2, "h2")));
  ASSERT_OK(store_->PutDefinition(
      DefinitionRecord{kOrg, "lead", 1, "lead.yaml", "", Json::object(), "hl", T(0)}));
  EXPECT_EQ(store_->GetDefinition(kOrg, "order", 0)->version, 3);  // 0 = highest
  EXPECT_EQ(store_->GetDefinition(kOrg, "order")->content_hash, "h3");
  EXPECT_EQ(store_->GetDefinition(kOrg, "order", 2)->content_hash, "h2");
  EXPECT_TRUE(store_->GetDefinition(kOrg, "order", 4).status().IsNotFound());
  EXPECT_TRUE(store_->GetDefinition(kOrg, "nope", 0).status().IsNotFound());

  // Same content again: a no-op. Other content under a published version: refused.
  ASSERT_OK(store_->PutDefinition(def(2, "h2")));
  Status st = store_->PutDefinition(def(2, "h2-edited"));
  EXPECT_TRUE(st.IsAlreadyExists()) << st;
  EXPECT_NE(st.message().find("bump `version:`"), std::string::npos) << st;
  EXPECT_NE(st.message().find("order"), std::string::npos) << st;
  EXPECT_EQ(store_->GetDefinition(kOrg, "order", 2)->content_hash, "h2");
  EXPECT_TRUE(store_->PutDefinition(def(0, "h0")).IsInvalidArgument());

  auto all = store_->ListDefinitions(kOrg);
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> names;
  for (const auto& d : *all) names.push_back(d.name + "@" + std::to_string(d.version));
  EXPECT_EQ(names, (std::vector<std::string>{"lead@1", "order@1", "order@2", "order@3"}));
}

// ---------------------------------------------------------------------------------------------------
// Outbox

TEST_P(StoreConformanceTest, OutboxIsListedOldestFirstAndCompletedOnce) {
  // Created out of order across orgs and kinds.
  CommitRequest a = Step(kOrg, "A", 0);
  a.outbox[0].created_at = T(30);
  OutboxItem spawn = a.outbox[0];
  spawn.id = "out-a-spawn";
  spawn.idempotency_key = "a-spawn";
  spawn.kind = "nurt.spawn";
  spawn.created_at = T(10);
  a.outbox.push_back(spawn);
  CommitRequest b = Step(kOtherOrg, "B", 0);
  b.outbox[0].created_at = T(20);
  ASSERT_OK(store_->Commit(a));
  ASSERT_OK(store_->Commit(b));

  auto ids = [&](std::vector<std::string> kinds, int limit) {
    std::vector<std::string> out;
    auto items = store_->ListPendingOutbox(kinds, limit);
    EXPECT_TRUE(items.ok()) << items.status();
    if (items.ok()) {
      for (const auto& o : *items) out.push_back(o.id);
    }
    return out;
  };
  const std::string a_send = a.outbox[0].id, b_send = b.outbox[0].id;
  using V = std::vector<std::string>;
  EXPECT_EQ(ids({}, 10), (V{"out-a-spawn", b_send, a_send}));
  EXPECT_EQ(ids({}, 2), (V{"out-a-spawn", b_send}));
  EXPECT_EQ(ids({"nurt.send"}, 10), (V{b_send, a_send}));
  EXPECT_EQ(ids({"nurt.spawn"}, 10), (V{"out-a-spawn"}));
  EXPECT_EQ(ids({"nurt.spawn", "nurt.send"}, 10), (V{"out-a-spawn", b_send, a_send}));
  EXPECT_EQ(ids({"adapter.http"}, 10), (V{}));
  EXPECT_TRUE(store_->ListPendingOutbox({}, 0).status().IsInvalidArgument());

  ASSERT_OK(store_->CompleteOutbox(kOtherOrg, b_send, "done", Json{{"delivered", true}}));
  ASSERT_OK(
      store_->CompleteOutbox(kOrg, "out-a-spawn", "failed", Json{{"error", "no such machine"}}));
  EXPECT_EQ(ids({}, 10), (V{a_send}));
  Status again = store_->CompleteOutbox(kOtherOrg, b_send, "done", Json(nullptr));
  EXPECT_TRUE(again.IsFailedPrecondition()) << again;
  EXPECT_NE(again.message().find(b_send), std::string::npos) << again;
  EXPECT_TRUE(store_->CompleteOutbox(kOrg, "no-such-item", "done", Json(nullptr)).IsNotFound());
  EXPECT_TRUE(store_->CompleteOutbox(kOrg, a_send, "pending", Json(nullptr)).IsInvalidArgument());
  EXPECT_EQ(ids({}, 10), (V{a_send}));
}

// ---------------------------------------------------------------------------------------------------
// Durability

TEST_P(StoreConformanceTest, ReopenKeepsEverything) {
  ASSERT_OK(store_->Commit(Step(kOrg, "I1", 0)));
  ASSERT_OK(store_->Commit(Step(kOrg, "I1", 1, {"shipped"})));
  ASSERT_OK(store_->PutDefinition(
      DefinitionRecord{kOrg, "order", 1, "o.yaml", "src", Json{{"a.lua", "x"}}, "h1", T(0)}));
  const Json before = Footprint(store_.get(), kOrg, "I1", Step(kOrg, "I1", 1));
  Reopen();
  EXPECT_EQ(Footprint(store_.get(), kOrg, "I1", Step(kOrg, "I1", 1)), before);
  EXPECT_EQ(store_->GetDefinition(kOrg, "order")->scripts, (Json{{"a.lua", "x"}}));
  ASSERT_OK(store_->Commit(Step(kOrg, "I1", 2)));  // and carries on where it left off
  Reopen();
  EXPECT_EQ(store_->GetInstance(kOrg, "I1")->version, 3);
}

std::string CrashId(int writer, int k) {
  return "crash-" + std::to_string(writer) + "-" + std::to_string(k);
}

struct Ack {
  std::int32_t writer;
  std::int32_t instance;
  std::int64_t version;
};
static_assert(sizeof(Ack) <= PIPE_BUF, "acks must be written atomically by concurrent threads");

// Reads exactly sizeof(Ack) bytes; false on end of file (the writer is gone).
bool ReadAck(int fd, Ack* ack) {
  auto* p = reinterpret_cast<char*>(ack);
  std::size_t n = sizeof *ack;
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// In a forked child: `writers` threads commit round-robin to `instances` instances each, sharing
// one Store, and acknowledge every commit through `fd` only after Commit returned OK. Never
// returns.
[[noreturn]] void CommitForever(StoreHarness* harness, int fd, int writers, int instances) {
  auto opened = harness->Open();
  if (!opened.ok()) {
    std::fprintf(stderr, "child: open: %s\n", opened.status().ToString().c_str());
    _exit(2);
  }
  std::unique_ptr<Store> store = std::move(opened).value();
  auto write_loop = [&](int w) {
    std::vector<std::int64_t> versions(instances, 0);
    for (int k = 0; k < instances; ++k) {
      auto rec = store->GetInstance(kOrg, CrashId(w, k));
      if (rec.ok()) versions[k] = rec->version;
    }
    const std::string pad(3000, 'x');  // several pages per commit: more places for a kill to land
    for (std::int64_t n = 0; n < 1'000'000; ++n) {
      const int k = static_cast<int>(n % instances);
      CommitRequest r = Step(kOrg, CrashId(w, k), versions[k]);
      r.instance.snapshot["pad"] = pad;
      r.events[0].payload["pad"] = pad;
      Status st = store->Commit(r);
      if (!st.ok()) {
        std::fprintf(stderr, "child writer %d: commit: %s\n", w, st.ToString().c_str());
        _exit(3);
      }
      ++versions[k];
      Ack ack{w, k, versions[k]};
      if (write(fd, &ack, sizeof ack) != static_cast<ssize_t>(sizeof ack)) _exit(4);
    }
    _exit(5);
  };
  std::vector<std::thread> threads;
  for (int w = 1; w < writers; ++w) threads.emplace_back(write_loop, w);
  write_loop(0);
  _exit(5);  // not reached: write_loop exits the process
}

// A child process commits from two threads (each to its own instances) and acknowledges every
// commit through a pipe only after Commit returned OK. After some acknowledgements the parent
// SIGKILLs it — while one thread has just finished a commit the other is inside its own, so kills
// land at varying points of a transaction, with no sleeping. The reopened database must hold every
// acknowledged commit and nothing half-written, and pass the implementation's integrity check.
// Several rounds, each continuing from what is stored.
TEST_P(StoreConformanceTest, AcknowledgedCommitsSurviveSigkill) {
  constexpr int kWriters = 2;
  constexpr int kInstances = 3;
  constexpr int kRounds = 6;
  constexpr int kAcksPerRound = 40;
  std::int64_t acked[kWriters][kInstances] = {};
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    store_.reset();  // no connection may cross fork()
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      CommitForever(harness_.get(), fds[1], kWriters, kInstances);
    }
    close(fds[1]);
    struct Reaper {  // an early ASSERT must not leave the child committing forever
      pid_t* pid;
      ~Reaper() {
        if (*pid <= 0) return;
        kill(*pid, SIGKILL);
        waitpid(*pid, nullptr, 0);
      }
    } reaper{&pid};

    Ack ack;
    auto record = [&](const Ack& a) {
      ASSERT_TRUE(a.writer >= 0 && a.writer < kWriters && a.instance >= 0 &&
                  a.instance < kInstances);
      EXPECT_GT(a.version, acked[a.writer][a.instance]);
      acked[a.writer][a.instance] = a.version;
    };
    int got = 0;
    while (got < kAcksPerRound && ReadAck(fds[0], &ack)) {
      record(ack);
      ++got;
    }
    kill(pid, SIGKILL);
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    pid = -1;
    while (ReadAck(fds[0], &ack)) record(ack);  // acks written before the kill landed
    close(fds[0]);
    ASSERT_EQ(got, kAcksPerRound) << "the child stopped early, exit status "
                                  << (WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);

    ASSERT_OK(harness_->CheckIntegrity());
    Reopen();
    std::size_t pending = 0;
    for (int w = 0; w < kWriters; ++w) {
      for (int k = 0; k < kInstances; ++k) {
        const std::string id = CrashId(w, k);
        SCOPED_TRACE(id);
        auto rec = store_->GetInstance(kOrg, id);
        if (acked[w][k] == 0 && rec.status().IsNotFound()) continue;  // never got to commit
        ASSERT_TRUE(rec.ok()) << rec.status();
        // Every acknowledged commit is there; at most the one in flight beyond it.
        EXPECT_GE(rec->version, acked[w][k]);
        EXPECT_LE(rec->version, acked[w][k] + 1);
        EXPECT_EQ(rec->snapshot["v"], rec->version);
        auto events = store_->ListEvents(kOrg, id);
        ASSERT_TRUE(events.ok());
        ASSERT_EQ(static_cast<std::int64_t>(events->size()), rec->version);
        for (std::int64_t s = 1; s <= rec->version; ++s) {
          EXPECT_EQ(events->at(s - 1).sequence, s);
          EXPECT_EQ(events->at(s - 1).payload["v"], s);
        }
        auto ts = store_->ListTransitions(kOrg, id);
        ASSERT_TRUE(ts.ok());
        ASSERT_EQ(static_cast<std::int64_t>(ts->size()), 2 * rec->version);
        for (std::int64_t s = 1; s <= rec->version; ++s) {
          auto key = store_->FindIdempotency(kOrg, id, Step(kOrg, id, s - 1).idempotency->key);
          ASSERT_TRUE(key.ok());
          EXPECT_TRUE(key->has_value()) << "version " << s;
        }
        acked[w][k] = rec->version;  // the next round continues from what is stored
        pending += static_cast<std::size_t>(rec->version);
      }
    }
    auto out = store_->ListPendingOutbox({}, 100000);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->size(), pending);
  }
}

}  // namespace
}  // namespace nurt::store

namespace nurt::store {
namespace {

// The metrics gauge's source: every instance counted once, by org, machine, state and run status.
TEST_P(StoreConformanceTest, CountInstancesGroupsByOrgMachineStateAndRunStatus) {
  ASSERT_OK(store_->Commit(Step(kOrg, "A", 0, {"open"})));
  ASSERT_OK(store_->Commit(Step(kOrg, "B", 0, {"open"})));
  ASSERT_OK(store_->Commit(Step(kOrg, "C", 0, {"ksef.sent", "payment.waiting"})));
  ASSERT_OK(store_->Commit(Step(kOtherOrg, "A", 0, {"open"})));
  auto counts = store_->CountInstances();
  ASSERT_TRUE(counts.ok()) << counts.status();
  std::map<std::string, std::int64_t> got;
  for (const auto& c : *counts) got[c.org_id + "|" + c.machine + "|" + c.state + "|" + c.run_status] = c.count;
  EXPECT_EQ(got, (std::map<std::string, std::int64_t>{{"acme|order|open|active", 2},
                                                      {"acme|order|ksef.sent payment.waiting|active", 1},
                                                      {"globex|order|open|active", 1}}));
}

}  // namespace
}  // namespace nurt::store
