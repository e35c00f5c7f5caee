// Human tasks end to end on a real SQLite store: a task opens when its state is entered (the initial
// state at Start too) and closes when it is left, in the same commit; completing one raises its
// decision's event and closes it as completed in that commit; form checks answer with JSON pointers;
// claims, idempotent retries, re-entry, targetless events, parallel regions and batches.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <utility>

#include "forwarding_store.hpp"
#include "engine_harness.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/engine/engine.hpp"

namespace nurt::engine {
namespace {

constexpr const char* kOrg = "acme";

const char* kOffer = R"YAML(apiVersion: nurt/v1
kind: Machine
name: offer
version: 1
states:
  review:
    task:
      title: Review the offer
      description: Check prices and the NIP
      assignee: {role: coordinator}
      form:
        - {name: amount, type: number, required: true, label: Amount (PLN)}
        - {name: kind, type: enum, options: [standard, premium]}
        - {name: count, type: integer}
        - {name: urgent, type: boolean}
        - {name: start, type: date}
        - {name: note, type: string}
      checklist: [Check NIP, Check the address]
      due: P2D
      decisions:
        approve: offer.approved
        reject: offer.rejected
        revise: offer.revise
    on:
      offer.approved:
        target: accepted
        guard: "event.data.amount < 1000000"
      offer.rejected: rejected
      offer.revise: review
      offer.withdrawn: withdrawn
      note:
        actions: [ {assign: {noted: "true"}} ]
  accepted:
    on: { reopen: review }
  rejected: { type: final }
  withdrawn: { type: final }
)YAML";

const char* kProject = R"YAML(apiVersion: nurt/v1
kind: Machine
name: project
version: 1
states:
  work:
    type: parallel
    states:
      design:
        initial: drafting
        states:
          drafting:
            task: {title: Draft the design, assignee: {role: architect}, decisions: {done: design.done}}
            on: { design.done: drafted }
          drafted: { type: final }
      install:
        initial: mounting
        states:
          mounting:
            task: {title: Mount the panels, assignee: {user: jan}, decisions: {done: install.done}}
            on: { install.done: mounted }
          mounted: { type: final }
    on:
      done.state.work: finished
  finished: { type: final }
)YAML";

// A store decorator that lets another writer commit first, once: a deterministic lost race.
class RaceBeforeCommit final : public testing::ForwardingStore {
 public:
  RaceBeforeCommit(store::Store* inner, std::function<void()> race)
      : ForwardingStore(inner), race_(std::move(race)) {}
  Status Commit(const store::CommitRequest& r) override {
    if (race_) std::exchange(race_, nullptr)();
    return inner_->Commit(r);
  }

 private:
  std::function<void()> race_;
};

class TaskTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.Open());
    Publish(kOffer, "offer.yaml");
    Publish(kProject, "project.yaml");
  }

  void Publish(const std::string& yaml, const std::string& file) {
    auto r = dsl::LoadMachineText(yaml, file);
    ASSERT_NE(r.definition, nullptr) << (r.diagnostics.empty() ? "" : r.diagnostics[0].ToString());
    ASSERT_TRUE(engine_->Publish(kOrg, *r.definition).ok());
  }

  std::string Start(const std::string& machine, const std::string& id) {
    StartRequest req;
    req.org_id = kOrg;
    req.machine = machine;
    req.instance_id = id;
    auto r = engine_->Start(req);
    EXPECT_TRUE(r.ok()) << r.status();
    return id;
  }

  Result<Outcome> Send(const std::string& id, const std::string& event) {
    EventRequest req;
    req.org_id = kOrg;
    req.instance_id = id;
    req.event = event;
    req.actor = "user:ola";
    return engine_->Accept(req);
  }

  std::vector<store::TaskRecord> Tasks(const std::string& instance, bool only_active = false) {
    store::TaskFilter f;
    f.instance_id = instance;
    f.only_active = only_active;
    auto r = engine_->ListTasks(kOrg, f);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<store::TaskRecord>{};
  }

  store::TaskRecord OnlyActiveTask(const std::string& instance) {
    auto tasks = Tasks(instance, true);
    EXPECT_EQ(tasks.size(), 1u);
    return tasks.empty() ? store::TaskRecord{} : tasks.front();
  }

  CompleteTaskRequest Completion(const std::string& task, const std::string& decision, Json data,
                                 const std::string& actor = "anna") {
    CompleteTaskRequest req;
    req.org_id = kOrg;
    req.task_id = task;
    req.decision = decision;
    req.data = std::move(data);
    req.actor = actor;
    return req;
  }

  void ExpectReplayEqualsSnapshot(const std::string& id) {
    auto replayed = engine_->Replay(kOrg, id);
    ASSERT_TRUE(replayed.ok()) << replayed.status();
    EXPECT_EQ(*replayed, store_->GetInstance(kOrg, id)->snapshot);
  }

  std::int64_t Version(const std::string& id) { return store_->GetInstance(kOrg, id)->version; }

  testing::EngineHarness harness_;
  testing::ManualClock& clock_ = harness_.clock;
  std::unique_ptr<store::Store>& store_ = harness_.store;
  std::unique_ptr<Engine>& engine_ = harness_.engine;
};

TEST_F(TaskTrackerTest, StartOpensTheTaskOfTheInitialState) {
  const TimePoint started = clock_.Now();
  Start("offer", "o-1");
  const store::TaskRecord t = OnlyActiveTask("o-1");
  EXPECT_EQ(t.status, "open");
  EXPECT_EQ(t.state, "review");
  EXPECT_EQ(t.machine, "offer");
  EXPECT_EQ(t.title, "Review the offer");
  EXPECT_EQ(t.description, "Check prices and the NIP");
  EXPECT_EQ(t.assignee_role, "coordinator");
  EXPECT_EQ(t.assignee_user, "");
  EXPECT_EQ(t.opened_at, started);
  EXPECT_EQ(t.due_at, started + std::chrono::hours(48));
  EXPECT_EQ(t.opened_by_sequence, 1);
  EXPECT_EQ(t.form[0], (Json{{"name", "amount"}, {"type", "number"}, {"required", true},
                             {"label", "Amount (PLN)"}}));
  EXPECT_EQ(t.form[1]["options"], Json::array({"standard", "premium"}));
  EXPECT_EQ(t.checklist, Json::array({"Check NIP", "Check the address"}));
  EXPECT_EQ(t.decisions, (Json{{"approve", "offer.approved"}, {"reject", "offer.rejected"},
                               {"revise", "offer.revise"}}));
  EXPECT_EQ(engine_->GetTask(kOrg, t.id)->id, t.id);
  EXPECT_TRUE(engine_->GetTask("globex", t.id).status().IsNotFound());
}

TEST_F(TaskTrackerTest, LeavingTheStateClosesItsTaskWithTheReason) {
  Start("offer", "o-1");
  const std::string task = OnlyActiveTask("o-1").id;
  clock_.Advance(std::chrono::hours(1));
  auto r = Send("o-1", "offer.withdrawn");
  ASSERT_TRUE(r.ok()) << r.status();
  auto t = engine_->GetTask(kOrg, task);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->status, "closed");
  EXPECT_EQ(t->close_reason, "state review left on event offer.withdrawn");
  EXPECT_EQ(t->closed_at, clock_.Now());
  EXPECT_EQ(t->closed_by_sequence, r->event_sequence);
  EXPECT_TRUE(Tasks("o-1", true).empty());
  ExpectReplayEqualsSnapshot("o-1");
}

TEST_F(TaskTrackerTest, CompletingRaisesTheDecisionsEventAndClosesTheTaskInThatCommit) {
  Start("offer", "o-1");
  const std::string task = OnlyActiveTask("o-1").id;
  CompleteTaskRequest req =
      Completion(task, "approve", Json{{"amount", 1200.5}, {"kind", "premium"}, {"start", "2026-02-28"}});
  req.checklist_done = {"Check NIP"};
  req.trace_id = "trace-1";
  auto r = engine_->CompleteTask(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, std::vector<std::string>{"accepted"});
  EXPECT_EQ(r->version, 2);

  auto events = store_->ListEvents(kOrg, "o-1");
  ASSERT_EQ(events->size(), 2u);
  const store::EventEnvelope& e = events->back();
  EXPECT_EQ(e.type, "offer.approved");
  EXPECT_EQ(e.actor, "anna");
  EXPECT_EQ(e.trace_id, "trace-1");
  EXPECT_EQ(e.payload, (Json{{"amount", 1200.5}, {"kind", "premium"}, {"start", "2026-02-28"},
                             {"task", {{"id", task}, {"decision", "approve"}, {"checklist", {"Check NIP"}}}}}));

  auto t = engine_->GetTask(kOrg, task);
  EXPECT_EQ(t->status, "completed");
  EXPECT_EQ(t->decision, "approve");
  EXPECT_EQ(t->completed_by, "anna");
  EXPECT_EQ(t->close_reason, "");
  EXPECT_EQ(t->closed_by_sequence, r->event_sequence);
  EXPECT_EQ(t->result, (Json{{"data", {{"amount", 1200.5}, {"kind", "premium"}, {"start", "2026-02-28"}}},
                             {"checklist", {"Check NIP"}}}));
  EXPECT_TRUE(Tasks("o-1", true).empty());
  ExpectReplayEqualsSnapshot("o-1");

  Status again = engine_->CompleteTask(Completion(task, "approve", Json{{"amount", 1}})).status();
  EXPECT_TRUE(again.IsFailedPrecondition()) << again;
  EXPECT_NE(again.message().find("already completed"), std::string::npos) << again;
}

TEST_F(TaskTrackerTest, FormProblemsAreAllReportedWithJsonPointersAndChangeNothing) {
  Start("offer", "o-1");
  const std::string task = OnlyActiveTask("o-1").id;
  CompleteTaskRequest req = Completion(task, "approve",
                                       Json{{"amount", "12zł"},
                                            {"kind", "gold"},
                                            {"count", 1.5},
                                            {"urgent", "yes"},
                                            {"start", "2026-02-30"},
                                            {"note", 7},
                                            {"colour", "red"}});
  req.checklist_done = {"Check NIP", "Call the client"};
  Status st = engine_->CompleteTask(req).status();
  EXPECT_TRUE(st.IsInvalidArgument()) << st;
  EXPECT_EQ(st.message(),
            "/data/amount: expected a number, got \"12zł\"\n"
            "/data/kind: expected one of \"standard\", \"premium\", got \"gold\"\n"
            "/data/count: expected a whole number, got 1.5\n"
            "/data/urgent: expected true or false, got \"yes\"\n"
            "/data/start: expected a date YYYY-MM-DD, got \"2026-02-30\"\n"
            "/data/note: expected text, got 7\n"
            "/data/colour: the task's form has no field 'colour' (fields: amount, kind, count, urgent, "
            "start, note)\n"
            "/checklist/1: 'Call the client' is not an item of the task's checklist "
            "[\"Check NIP\",\"Check the address\"]");

  Status missing = engine_->CompleteTask(Completion(task, "approve", Json{{"count", 3}})).status();
  EXPECT_TRUE(missing.IsInvalidArgument()) << missing;
  EXPECT_EQ(missing.message(), "/data/amount: required field 'Amount (PLN)' is missing");

  Status decision = engine_->CompleteTask(Completion(task, "maybe", Json{{"amount", 1}})).status();
  EXPECT_TRUE(decision.IsInvalidArgument()) << decision;
  EXPECT_NE(decision.message().find("has no decision 'maybe'; its decisions are: approve, reject, revise"),
            std::string::npos)
      << decision;

  EXPECT_EQ(Version("o-1"), 1);
  EXPECT_EQ(engine_->GetTask(kOrg, task)->status, "open");
}

TEST_F(TaskTrackerTest, ATaskClaimedBySomeoneElseCannotBeClaimedOrCompleted) {
  Start("offer", "o-1");
  const std::string task = OnlyActiveTask("o-1").id;
  auto claimed = engine_->ClaimTask(kOrg, task, "anna");
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_EQ(claimed->status, "claimed");
  EXPECT_EQ(claimed->claimed_by, "anna");
  EXPECT_EQ(claimed->claimed_at, clock_.Now());

  auto by_bob = engine_->ClaimTask(kOrg, task, "bob");
  EXPECT_TRUE(by_bob.status().IsFailedPrecondition()) << by_bob.status();
  Status complete_bob = engine_->CompleteTask(Completion(task, "approve", Json{{"amount", 1}}, "bob")).status();
  EXPECT_TRUE(complete_bob.IsFailedPrecondition()) << complete_bob;
  EXPECT_NE(complete_bob.message().find("claimed by 'anna'"), std::string::npos) << complete_bob;
  EXPECT_TRUE(engine_->ReleaseTask(kOrg, task, "bob").status().IsFailedPrecondition());
  EXPECT_EQ(Version("o-1"), 1);

  auto released = engine_->ReleaseTask(kOrg, task, "anna");
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->status, "open");
  auto r = engine_->CompleteTask(Completion(task, "reject", Json{{"amount", 1}}, "bob"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->run_status, "completed");
  EXPECT_EQ(engine_->GetTask(kOrg, task)->completed_by, "bob");
}

TEST_F(TaskTrackerTest, CompletionWithTheSameKeyReplaysAndWithAnotherRequestIsAMismatch) {
  Start("offer", "o-1");
  const std::string task = OnlyActiveTask("o-1").id;
  CompleteTaskRequest req = Completion(task, "approve", Json{{"amount", 10}});
  req.idempotency_key = "k-1";
  auto first = engine_->CompleteTask(req);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->replayed);
  auto again = engine_->CompleteTask(req);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->version, first->version);
  EXPECT_EQ(again->event_id, first->event_id);
  EXPECT_EQ(Version("o-1"), 2);

  req.data["amount"] = 11;
  Status other = engine_->CompleteTask(req).status();
  EXPECT_EQ(other.code(), StatusCode::kIdempotencyMismatch) << other;
  EXPECT_EQ(Version("o-1"), 2);
}

TEST_F(TaskTrackerTest, ReEnteringTheStateOpensAFreshTaskAndTargetlessEventsKeepIt) {
  Start("offer", "o-1");
  const std::string first = OnlyActiveTask("o-1").id;
  ASSERT_TRUE(Send("o-1", "note").ok());
  EXPECT_EQ(OnlyActiveTask("o-1").id, first) << "a targetless transition does not leave the state";

  // A self-transition exits and re-enters the state: the completed task ends, a new one opens.
  ASSERT_TRUE(engine_->CompleteTask(Completion(first, "revise", Json{{"amount", 1}})).ok());
  EXPECT_EQ(engine_->GetTask(kOrg, first)->status, "completed");
  const store::TaskRecord second = OnlyActiveTask("o-1");
  EXPECT_NE(second.id, first);
  EXPECT_EQ(second.opened_by_sequence, 3);

  // Leaving and coming back later: another fresh task.
  ASSERT_TRUE(engine_->CompleteTask(Completion(second.id, "approve", Json{{"amount", 1}})).ok());
  EXPECT_TRUE(Tasks("o-1", true).empty());
  ASSERT_TRUE(Send("o-1", "reopen").ok());
  const store::TaskRecord third = OnlyActiveTask("o-1");
  EXPECT_NE(third.id, second.id);
  EXPECT_EQ(Tasks("o-1").size(), 3u);
  ExpectReplayEqualsSnapshot("o-1");
}

TEST_F(TaskTrackerTest, ATaskWhoseStateWasLeftCannotBeCompleted) {
  Start("offer", "o-1");
  const std::string task = OnlyActiveTask("o-1").id;
  ASSERT_TRUE(Send("o-1", "offer.withdrawn").ok());
  Status st = engine_->CompleteTask(Completion(task, "approve", Json{{"amount", 1}})).status();
  EXPECT_TRUE(st.IsFailedPrecondition()) << st;
  EXPECT_NE(st.message().find("state review left on event offer.withdrawn"), std::string::npos) << st;
  EXPECT_EQ(Version("o-1"), 2);
}

TEST_F(TaskTrackerTest, ADecisionWhoseEventIsNotTakenIsRefusedAndChangesNothing) {
  Start("offer", "o-1");
  const std::string task = OnlyActiveTask("o-1").id;
  Status st = engine_->CompleteTask(Completion(task, "approve", Json{{"amount", 2000000}})).status();
  EXPECT_TRUE(st.IsFailedPrecondition()) << st;
  EXPECT_NE(st.message().find("completing task '" + task + "'"), std::string::npos) << st;
  EXPECT_EQ(Version("o-1"), 1);
  EXPECT_EQ(engine_->GetTask(kOrg, task)->status, "open");
}

TEST_F(TaskTrackerTest, ACompletionThatLosesARaceToLeavingTheStateIsRefusedAndChangesNothing) {
  Start("offer", "o-1");
  const std::string task = OnlyActiveTask("o-1").id;
  RaceBeforeCommit racing(store_.get(), [&] { ASSERT_TRUE(Send("o-1", "offer.withdrawn").ok()); });
  EngineOptions eo;
  eo.store = &racing;
  eo.clock = &clock_;
  auto other = NewEngine(eo);
  ASSERT_TRUE(other.ok()) << other.status();
  Status st = (*other)->CompleteTask(Completion(task, "approve", Json{{"amount", 1}})).status();
  EXPECT_TRUE(st.IsFailedPrecondition()) << st;
  EXPECT_NE(st.message().find("state review left on event offer.withdrawn"), std::string::npos) << st;
  EXPECT_EQ(Version("o-1"), 2) << "only the withdrawal was committed";
  EXPECT_EQ(store_->GetInstance(kOrg, "o-1")->state, std::vector<std::string>{"withdrawn"});
  EXPECT_EQ(engine_->GetTask(kOrg, task)->status, "closed");
}

TEST_F(TaskTrackerTest, EachParallelRegionHasItsOwnTask) {
  Start("project", "p-1");
  auto tasks = Tasks("p-1", true);
  ASSERT_EQ(tasks.size(), 2u);
  const store::TaskRecord drafting = tasks[0].state == "drafting" ? tasks[0] : tasks[1];
  const store::TaskRecord mounting = tasks[0].state == "drafting" ? tasks[1] : tasks[0];
  EXPECT_EQ(drafting.assignee_role, "architect");
  EXPECT_EQ(mounting.assignee_user, "jan");
  EXPECT_FALSE(drafting.due_at.has_value());

  store::TaskFilter inbox;
  inbox.status = "open";
  inbox.assignee_user = "jan";
  EXPECT_EQ(engine_->ListTasks(kOrg, inbox)->size(), 1u);

  ASSERT_TRUE(engine_->CompleteTask(Completion(drafting.id, "done", Json::object(), "ewa")).ok());
  EXPECT_EQ(OnlyActiveTask("p-1").id, mounting.id);
  auto r = engine_->CompleteTask(Completion(mounting.id, "done", Json::object(), "jan"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, std::vector<std::string>{"finished"});
  EXPECT_TRUE(Tasks("p-1", true).empty());
  EXPECT_EQ(engine_->GetTask(kOrg, mounting.id)->status, "completed");
  ExpectReplayEqualsSnapshot("p-1");
}

TEST_F(TaskTrackerTest, ABatchOpeningAndClosingATaskOfOneInstanceKeepsThemConsistent) {
  Start("offer", "o-1");
  ASSERT_TRUE(engine_->CompleteTask(Completion(OnlyActiveTask("o-1").id, "approve", Json{{"amount", 1}})).ok());
  std::vector<EventRequest> batch(2);
  for (auto& b : batch) {
    b.org_id = kOrg;
    b.instance_id = "o-1";
  }
  batch[0].event = "reopen";           // opens a task
  batch[1].event = "offer.withdrawn";  // closes it, in the same store transaction
  auto results = engine_->AcceptBatch(batch);
  ASSERT_TRUE(results[0].ok()) << results[0].status();
  ASSERT_TRUE(results[1].ok()) << results[1].status();
  auto tasks = Tasks("o-1");
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[1].status, "closed");
  EXPECT_EQ(tasks[1].opened_by_sequence, 3);
  EXPECT_EQ(tasks[1].closed_by_sequence, 4);
  EXPECT_TRUE(Tasks("o-1", true).empty());
}

TEST_F(TaskTrackerTest, TasksOfAnotherOrgAreNotFound) {
  Start("offer", "o-1");
  const std::string task = OnlyActiveTask("o-1").id;
  CompleteTaskRequest req = Completion(task, "approve", Json{{"amount", 1}});
  req.org_id = "globex";
  EXPECT_TRUE(engine_->CompleteTask(req).status().IsNotFound());
  EXPECT_TRUE(engine_->ClaimTask("globex", task, "anna").status().IsNotFound());
  EXPECT_TRUE(engine_->ListTasks("globex", {})->empty());
}

}  // namespace
}  // namespace nurt::engine
