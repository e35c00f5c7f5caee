// SqliteStore's rules tables (migration 6): the global commit-ordered feed, the evaluator cursor with
// its optimistic check, once_per uniqueness, and queued firings kept with their effects until release.
#include <gtest/gtest.h>

#include "nurt/store/store.hpp"
#include "temp_dir.hpp"

namespace nurt::store {
namespace {

CommitRequest Start(const std::string& org, const std::string& id, const std::string& event_id) {
  CommitRequest r;
  r.org_id = org;
  r.instance_id = id;
  r.instance = InstanceRecord{org, id, "m", 1, "active", {"s"}, Json{{"configuration", {"s"}}}, 1, {}, {}};
  EventEnvelope e;
  e.id = event_id;
  e.org_id = org;
  e.type = "nurt.start";
  e.entity_type = "m";
  e.entity_id = id;
  e.sequence = 1;
  r.events = {e};
  return r;
}

class SqliteRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteOptions o;
    o.path = dir_.File("nurt.db");
    o.fsync_on_commit = false;
    auto s = NewSqliteStore(o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(s).value();
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteRulesTest, TheFeedIsCommitOrderedAcrossOrgsAndInstances) {
  ASSERT_TRUE(store_->Commit(Start("b", "x", "E1")).ok());
  ASSERT_TRUE(store_->Commit(Start("a", "y", "E2")).ok());
  ASSERT_TRUE(store_->Commit(Start("a", "a", "E3")).ok());
  auto all = store_->ListEventsAfter(0, 10);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].event.id, "E1");
  EXPECT_EQ((*all)[1].event.id, "E2");
  EXPECT_EQ((*all)[2].event.id, "E3");
  EXPECT_EQ((*all)[2].event.org_id, "a");
  EXPECT_LT((*all)[0].position, (*all)[1].position);
  auto rest = store_->ListEventsAfter((*all)[0].position, 1);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].event.id, "E2");
  EXPECT_TRUE(store_->ListEventsAfter(0, 0).status().IsInvalidArgument());
}

TEST_F(SqliteRulesTest, CursorMovesOnlyFromWhereItWasReadAndKeysAreUnique) {
  ASSERT_TRUE(store_->Commit(Start("a", "i", "E1")).ok());
  RuleEvaluationCommit c;
  c.evaluator = "rules";
  c.position = 1;
  RuleFiring f;
  f.org_id = "a";
  f.rule_id = "r";
  f.key = "k";
  f.event_id = "E1";
  f.instance_id = "i";
  f.event_sequence = 1;
  OutboxItem o;
  o.id = "O1";
  o.org_id = "a";
  o.instance_id = "i";
  o.kind = "nurt.notify";
  o.idempotency_key = "rule:r:k:0";
  f.outbox = {o};
  c.firings = {f};
  ASSERT_TRUE(store_->CommitRuleEvaluation(c).ok());
  EXPECT_EQ(*store_->GetRuleCursor("rules"), 1);
  EXPECT_EQ(*store_->GetRuleCursor("other"), 0);
  EXPECT_TRUE(*store_->HasRuleFiring("a", "r", "k"));
  // The same commit again: the cursor moved, so it is a conflict and nothing is written.
  EXPECT_TRUE(store_->CommitRuleEvaluation(c).IsConflict());
  // Another evaluator recording the same key: the firing and its effects are skipped.
  c.evaluator = "replay";
  c.firings[0].outbox[0].id = "O2";
  ASSERT_TRUE(store_->CommitRuleEvaluation(c).ok());
  EXPECT_EQ(store_->ListPendingOutbox({"nurt.notify"}, 10)->size(), 1u);
  EXPECT_EQ(*store_->CountRuleFirings("a", {"r"}, TimePoint{}), 1);
  EXPECT_EQ(*store_->CountRuleFirings("a", {"other"}, TimePoint{}), 0);
  EXPECT_EQ(*store_->CountRuleFirings("a", {}, TimePoint{}), 1);
}

TEST_F(SqliteRulesTest, QueuedFiringsKeepTheirEffectsUntilReleased) {
  ASSERT_TRUE(store_->Commit(Start("a", "i", "E1")).ok());
  RuleEvaluationCommit c;
  c.evaluator = "rules";
  c.position = 1;
  RuleFiring f;
  f.org_id = "a";
  f.rule_id = "r";
  f.key = "k";
  f.event_id = "E1";
  f.instance_id = "i";
  f.event_sequence = 1;
  f.status = "queued";
  f.evaluated_at = FromUnixMillis(1000);
  OutboxItem o;
  o.id = "O1";
  o.kind = "nurt.notify";
  o.payload = Json{{"channel", "email"}};
  o.idempotency_key = "rule:r:k:0";
  f.outbox = {o};
  TaskRecord t;
  t.id = "T1";
  t.machine = "m";
  t.state = "rule:r";
  t.title = "Call";
  t.assignee_role = "finance";
  t.decisions = Json{{"done", "x.done"}};
  t.opened_at = FromUnixMillis(1000);
  t.due_at = FromUnixMillis(61000);
  f.tasks = {t};
  c.firings = {f};
  ASSERT_TRUE(store_->CommitRuleEvaluation(c).ok());
  EXPECT_EQ(store_->ListPendingOutbox({}, 10)->size(), 0u);
  auto queued = store_->ListQueuedRuleFirings("a", 10);
  ASSERT_TRUE(queued.ok()) << queued.status();
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ((*queued)[0].outbox.at(0).payload["channel"], "email");
  EXPECT_EQ((*queued)[0].tasks.at(0).title, "Call");

  RuleEvaluationCommit release;
  release.evaluator = "rules";
  release.expected_position = 1;
  release.position = 1;
  release.releases = {RuleFiringRelease{"a", "r", "k", FromUnixMillis(5000)}};
  ASSERT_TRUE(store_->CommitRuleEvaluation(release).ok());
  EXPECT_EQ(store_->ListQueuedRuleFirings("a", 10)->size(), 0u);
  auto items = store_->ListPendingOutbox({"nurt.notify"}, 10);
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].instance_id, "i");
  auto task = store_->GetTask("a", "T1");
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->opened_at, FromUnixMillis(5000));
  EXPECT_EQ(*task->due_at, FromUnixMillis(65000));  // due keeps its distance from the opening
  EXPECT_EQ(*store_->CountRuleFirings("a", {"r"}, FromUnixMillis(5000)), 1);
}

}  // namespace
}  // namespace nurt::store
