// The Store conformance suite, human tasks (see store_conformance.hpp): tasks open and close only
// inside a commit (atomically with it), the claim/release rules, list filters and cursors, and
// tenant isolation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/engine/store/store_conformance.hpp"

namespace nurt::store {
namespace {

TimePoint At(std::int64_t ms) { return FromUnixMillis(1'800'000'000'000 + ms); }

// Moves `id` from version `from` to from+1 (one event, no transitions).
CommitRequest Advance(const std::string& org, const std::string& id, std::int64_t from,
                      const std::string& state = "review") {
  const std::int64_t v = from + 1;
  CommitRequest r;
  r.org_id = org;
  r.instance_id = id;
  r.expected_version = from;
  r.instance = InstanceRecord{org, id, "offer", 1, "active", {state}, Json{{"v", v}}, v, At(v), At(v)};
  EventEnvelope e;
  e.id = "evt-" + org + "-" + id + "-" + std::to_string(v);
  e.org_id = org;
  e.type = from == 0 ? "nurt.start" : "tick";
  e.occurred_at = At(v);
  e.actor = "test";
  e.entity_type = "offer";
  e.entity_id = id;
  e.sequence = v;
  r.events = {e};
  return r;
}

TaskRecord NewTask(const std::string& org, const std::string& instance, const std::string& id,
                   const std::string& role, const std::string& user = "") {
  TaskRecord t;
  t.org_id = org;
  t.id = id;
  t.instance_id = instance;
  t.machine = "offer";
  t.state = "review";
  t.title = "Review the offer";
  t.description = "Check prices";
  t.assignee_role = role;
  t.assignee_user = user;
  t.form = Json::array({Json{{"name", "amount"}, {"type", "number"}, {"required", true}}});
  t.checklist = Json::array({"Check NIP"});
  t.decisions = Json{{"approve", "offer.approved"}};
  t.due_at = At(86'400'000);
  t.opened_at = At(1);
  t.opened_by_sequence = 1;
  return t;
}

std::vector<std::string> Ids(const Result<std::vector<TaskRecord>>& list) {
  std::vector<std::string> ids;
  EXPECT_TRUE(list.ok()) << list.status();
  if (list.ok()) {
    for (const auto& t : *list) ids.push_back(t.id);
  }
  return ids;
}

}  // namespace

TEST_P(StoreConformanceTest, TaskOpenedByACommitRoundTrips) {
  CommitRequest start = Advance("acme", "I1", 0);
  start.tasks_opened = {NewTask("acme", "I1", "T1", "coordinator")};
  ASSERT_TRUE(store_->Commit(start).ok());
  auto t = store_->GetTask("acme", "T1");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->ToJson(), [] {
    TaskRecord expected = NewTask("acme", "I1", "T1", "coordinator");
    expected.result = nullptr;
    return expected.ToJson();
  }());
  EXPECT_EQ(t->status, "open");
  EXPECT_EQ(t->due_at, At(86'400'000));
  EXPECT_FALSE(t->claimed_at.has_value());
  EXPECT_FALSE(t->closed_at.has_value());
  Reopen();
  EXPECT_EQ(store_->GetTask("acme", "T1")->title, "Review the offer");
}

TEST_P(StoreConformanceTest, ClaimAndReleaseFollowTheTaskLifecycle) {
  CommitRequest start = Advance("acme", "I1", 0);
  start.tasks_opened = {NewTask("acme", "I1", "T1", "coordinator")};
  ASSERT_TRUE(store_->Commit(start).ok());

  ASSERT_TRUE(store_->ClaimTask("acme", "T1", "anna", At(5)).ok());
  auto t = store_->GetTask("acme", "T1");
  EXPECT_EQ(t->status, "claimed");
  EXPECT_EQ(t->claimed_by, "anna");
  EXPECT_EQ(t->claimed_at, At(5));
  EXPECT_TRUE(store_->ClaimTask("acme", "T1", "anna", At(6)).ok()) << "claiming again is a no-op";
  EXPECT_EQ(store_->GetTask("acme", "T1")->claimed_at, At(5));

  Status other = store_->ClaimTask("acme", "T1", "bob", At(7));
  EXPECT_TRUE(other.IsFailedPrecondition()) << other;
  EXPECT_NE(other.message().find("claimed by 'anna'"), std::string::npos) << other;
  Status release_other = store_->ReleaseTask("acme", "T1", "bob");
  EXPECT_TRUE(release_other.IsFailedPrecondition()) << release_other;
  EXPECT_NE(release_other.message().find("'anna'"), std::string::npos) << release_other;

  ASSERT_TRUE(store_->ReleaseTask("acme", "T1", "anna").ok());
  t = store_->GetTask("acme", "T1");
  EXPECT_EQ(t->status, "open");
  EXPECT_EQ(t->claimed_by, "");
  EXPECT_FALSE(t->claimed_at.has_value());
  EXPECT_TRUE(store_->ReleaseTask("acme", "T1", "anna").ok()) << "releasing an open task is a no-op";
  EXPECT_TRUE(store_->ClaimTask("acme", "T1", "", At(8)).IsInvalidArgument());

  // Closed by leaving its state: nothing can be claimed or released any more.
  CommitRequest leave = Advance("acme", "I1", 1, "accepted");
  leave.tasks_closed = {TaskClosure{"T1", "closed", "", "", "state review left on event tick", nullptr}};
  ASSERT_TRUE(store_->Commit(leave).ok());
  t = store_->GetTask("acme", "T1");
  EXPECT_EQ(t->status, "closed");
  EXPECT_EQ(t->close_reason, "state review left on event tick");
  EXPECT_EQ(t->closed_at, At(2));
  EXPECT_EQ(t->closed_by_sequence, 2);
  Status late = store_->ClaimTask("acme", "T1", "anna", At(9));
  EXPECT_TRUE(late.IsFailedPrecondition()) << late;
  EXPECT_NE(late.message().find("closed"), std::string::npos) << late;
  EXPECT_TRUE(store_->ReleaseTask("acme", "T1", "anna").IsFailedPrecondition());
  EXPECT_TRUE(store_->ClaimTask("acme", "T404", "anna", At(9)).IsNotFound());
  EXPECT_TRUE(store_->ReleaseTask("acme", "T404", "anna").IsNotFound());
}

TEST_P(StoreConformanceTest, CompletionByAnotherUserThanTheClaimerIsConflictAndWritesNothing) {
  CommitRequest start = Advance("acme", "I1", 0);
  start.tasks_opened = {NewTask("acme", "I1", "T1", "coordinator")};
  ASSERT_TRUE(store_->Commit(start).ok());
  ASSERT_TRUE(store_->ClaimTask("acme", "T1", "anna", At(5)).ok());

  CommitRequest by_bob = Advance("acme", "I1", 1, "accepted");
  by_bob.tasks_closed = {TaskClosure{"T1", "completed", "bob", "approve", "", Json{{"data", {}}}}};
  Status st = store_->Commit(by_bob);
  EXPECT_TRUE(st.IsConflict()) << st;
  EXPECT_EQ(store_->GetInstance("acme", "I1")->version, 1) << "the whole commit rolled back";
  EXPECT_EQ(store_->GetTask("acme", "T1")->status, "claimed");

  CommitRequest by_anna = Advance("acme", "I1", 1, "accepted");
  by_anna.tasks_closed = {
      TaskClosure{"T1", "completed", "anna", "approve", "", Json{{"data", {{"amount", 5}}}}}};
  ASSERT_TRUE(store_->Commit(by_anna).ok());
  auto t = store_->GetTask("acme", "T1");
  EXPECT_EQ(t->status, "completed");
  EXPECT_EQ(t->decision, "approve");
  EXPECT_EQ(t->completed_by, "anna");
  EXPECT_EQ(t->result, (Json{{"data", {{"amount", 5}}}}));
  EXPECT_EQ(t->closed_by_sequence, 2);

  // Completing it twice: Conflict (it changed meanwhile), nothing written.
  CommitRequest again = Advance("acme", "I1", 2, "accepted");
  again.tasks_closed = {TaskClosure{"T1", "completed", "anna", "approve", "", nullptr}};
  EXPECT_TRUE(store_->Commit(again).IsConflict());
  EXPECT_EQ(store_->GetInstance("acme", "I1")->version, 2);
}

TEST_P(StoreConformanceTest, AFailedCommitOpensNoTask) {
  ASSERT_TRUE(store_->Commit(Advance("acme", "I1", 0)).ok());
  CommitRequest stale = Advance("acme", "I1", 0);  // version 0 again: the instance exists
  stale.tasks_opened = {NewTask("acme", "I1", "T1", "coordinator")};
  EXPECT_FALSE(store_->Commit(stale).ok());
  CommitRequest bad = Advance("acme", "I1", 1);
  bad.tasks_opened = {NewTask("acme", "I1", "T2", "coordinator")};
  bad.tasks_closed = {TaskClosure{"T404", "closed", "", "", "gone", nullptr}};
  EXPECT_TRUE(store_->Commit(bad).IsConflict());
  std::vector<Status> statuses;
  CommitRequest in_batch = Advance("acme", "I1", 1);
  in_batch.tasks_opened = {NewTask("acme", "I1", "T3", "coordinator"),
                           NewTask("acme", "I1", "T3", "coordinator")};  // the same id twice
  ASSERT_TRUE(store_->CommitBatch({in_batch}, &statuses).ok());
  EXPECT_TRUE(statuses[0].IsAlreadyExists()) << statuses[0];
  EXPECT_TRUE(Ids(store_->ListTasks("acme", TaskFilter{})).empty());
  EXPECT_EQ(store_->GetInstance("acme", "I1")->version, 1);
  CommitRequest wrong_instance = Advance("acme", "I1", 1);
  wrong_instance.tasks_opened = {NewTask("acme", "I2", "T4", "coordinator")};
  EXPECT_TRUE(store_->Commit(wrong_instance).IsInvalidArgument());
}

TEST_P(StoreConformanceTest, TasksOfAnotherOrgAreNotFound) {
  CommitRequest start = Advance("acme", "I1", 0);
  start.tasks_opened = {NewTask("acme", "I1", "T1", "coordinator")};
  ASSERT_TRUE(store_->Commit(start).ok());
  EXPECT_TRUE(store_->GetTask("globex", "T1").status().IsNotFound());
  EXPECT_TRUE(store_->ClaimTask("globex", "T1", "anna", At(1)).IsNotFound());
  EXPECT_TRUE(store_->ReleaseTask("globex", "T1", "anna").IsNotFound());
  EXPECT_TRUE(Ids(store_->ListTasks("globex", TaskFilter{})).empty());
  CommitRequest foreign = Advance("globex", "I9", 0);
  foreign.tasks_closed = {TaskClosure{"T1", "closed", "", "", "from another org", nullptr}};
  EXPECT_FALSE(store_->Commit(foreign).ok());
  EXPECT_EQ(store_->GetTask("acme", "T1")->status, "open");
}

TEST_P(StoreConformanceTest, ListTasksFiltersAndPagesByIdCursor) {
  CommitRequest a = Advance("acme", "I1", 0);
  a.tasks_opened = {NewTask("acme", "I1", "T1", "coordinator"), NewTask("acme", "I1", "T2", "finance"),
                    NewTask("acme", "I1", "T3", "", "anna")};
  ASSERT_TRUE(store_->Commit(a).ok());
  CommitRequest b = Advance("acme", "I2", 0);
  b.instance.machine = "lead";
  b.tasks_opened = {NewTask("acme", "I2", "T4", "coordinator"), NewTask("acme", "I2", "T5", "coordinator")};
  b.tasks_opened[0].machine = "lead";
  b.tasks_opened[1].machine = "lead";
  ASSERT_TRUE(store_->Commit(b).ok());
  ASSERT_TRUE(store_->ClaimTask("acme", "T4", "bob", At(3)).ok());
  CommitRequest done = Advance("acme", "I2", 1);
  done.tasks_closed = {TaskClosure{"T5", "closed", "", "", "left", nullptr}};
  ASSERT_TRUE(store_->Commit(done).ok());

  auto list = [&](TaskFilter f) { return Ids(store_->ListTasks("acme", f)); };
  using V = std::vector<std::string>;
  EXPECT_EQ(list({}), (V{"T1", "T2", "T3", "T4", "T5"}));
  EXPECT_EQ(list({.status = "open"}), (V{"T1", "T2", "T3", "T4"})) << "open includes claimed";
  EXPECT_EQ(list({.only_active = true}), (V{"T1", "T2", "T3", "T4"}));
  EXPECT_EQ(list({.status = "claimed"}), (V{"T4"}));
  EXPECT_EQ(list({.status = "closed"}), (V{"T5"}));
  EXPECT_EQ(list({.status = "completed"}), V{});
  EXPECT_EQ(list({.status = "closed", .only_active = true}), V{});
  EXPECT_EQ(list({.status = "open", .assignee_role = "coordinator"}), (V{"T1", "T4"}));
  EXPECT_EQ(list({.assignee_role = "coordinator"}), (V{"T1", "T4", "T5"}));
  EXPECT_EQ(list({.status = "open", .assignee_user = "anna"}), (V{"T3"}));
  EXPECT_EQ(list({.instance_id = "I2"}), (V{"T4", "T5"}));
  EXPECT_EQ(list({.status = "open", .instance_id = "I2"}), (V{"T4"}));
  EXPECT_EQ(list({.machine = "lead"}), (V{"T4", "T5"}));
  EXPECT_EQ(list({.status = "open", .machine = "lead"}), (V{"T4"}));
  EXPECT_EQ(list({.after_id = "T2", .limit = 2}), (V{"T3", "T4"}));
  EXPECT_EQ(list({.status = "open", .assignee_role = "coordinator", .after_id = "T1"}), (V{"T4"}));
  EXPECT_TRUE(store_->ListTasks("acme", {.status = "done"}).status().IsInvalidArgument());
  EXPECT_TRUE(store_->ListTasks("acme", {.limit = 0}).status().IsInvalidArgument());
}

}  // namespace nurt::store
