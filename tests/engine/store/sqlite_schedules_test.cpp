// The schedules part of the SQLite store: state and runs written in one transaction, a run recorded
// once per (org, schedule, time), newest-first listing with a cursor, and org separation.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nurt/store/store.hpp"
#include "temp_dir.hpp"

namespace nurt::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TimePoint T(std::int64_t hours) { return FromUnixMillis(1'767'225'600'000 + hours * 3'600'000); }

ScheduleState State(const std::string& org, TimePoint last) {
  return ScheduleState{org, "nightly", "0 2 * * *", "Europe/Warsaw", true, last, last};
}

ScheduleRun MakeRun(const std::string& org, TimePoint at, const std::string& outcome) {
  ScheduleRun r;
  r.org_id = org;
  r.name = "nightly";
  r.scheduled_for = at;
  r.started_at = at + std::chrono::milliseconds(5);
  r.lateness_ms = 5;
  r.outcome = outcome;
  r.instance_id = outcome == "skipped" ? "" : "nightly-" + std::to_string(ToUnixMillis(at));
  r.event_sequence = outcome == "skipped" ? 0 : 1;
  r.error = outcome == "skipped" ? "missed (policy skip)" : "";
  return r;
}

class SqliteSchedulesTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    store_.reset();
    auto s = NewSqliteStore({.path = dir_.File("nurt.db"), .fsync_on_commit = false});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(s).value();
  }
  std::vector<std::string> Listed(const std::string& org, std::optional<TimePoint> before, int limit) {
    auto runs = store_->ListScheduleRuns(org, "nightly", before, limit);
    EXPECT_TRUE(runs.ok()) << runs.status();
    std::vector<std::string> out;
    for (const auto& r : *runs) out.push_back(FormatIso8601(r.scheduled_for) + " " + r.outcome);
    return out;
  }
  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteSchedulesTest, StateAndRunsAreWrittenTogetherAndSurviveReopening) {
  auto none = store_->GetScheduleState("acme", "nightly");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(store_->RecordScheduleRuns(State("acme", T(0)), {}).ok());
  ASSERT_TRUE(store_->RecordScheduleRuns(State("acme", T(2)), {MakeRun("acme", T(1), "skipped"), MakeRun("acme", T(2), "started")}).ok());
  Open();
  auto state = store_->GetScheduleState("acme", "nightly");
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->last_scheduled_for, T(2));
  EXPECT_EQ((*state)->expression, "0 2 * * *");
  EXPECT_TRUE((*state)->enabled);
  EXPECT_THAT(Listed("acme", std::nullopt, 10),
              ElementsAre("2026-01-01T02:00:00.000Z started", "2026-01-01T01:00:00.000Z skipped"));
  auto runs = store_->ListScheduleRuns("acme", "nightly", std::nullopt, 1);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ((*runs)[0].instance_id, "nightly-" + std::to_string(ToUnixMillis(T(2))));
  EXPECT_EQ((*runs)[0].lateness_ms, 5);
  EXPECT_EQ((*runs)[0].started_at, T(2) + std::chrono::milliseconds(5));
  EXPECT_EQ((*runs)[0].event_sequence, 1);
}

TEST_F(SqliteSchedulesTest, ARunIsRecordedOncePerScheduledTime) {
  ASSERT_TRUE(store_->RecordScheduleRuns(State("acme", T(1)), {MakeRun("acme", T(1), "started")}).ok());
  // Recording the same time again (a repeat after a crash) keeps the first record.
  ASSERT_TRUE(store_->RecordScheduleRuns(State("acme", T(1)), {MakeRun("acme", T(1), "failed")}).ok());
  EXPECT_THAT(Listed("acme", std::nullopt, 10), ElementsAre("2026-01-01T01:00:00.000Z started"));
}

TEST_F(SqliteSchedulesTest, ListsNewestFirstWithACursorAndKeepsOrgsApart) {
  std::vector<ScheduleRun> runs;
  for (int h = 1; h <= 5; ++h) runs.push_back(MakeRun("acme", T(h), "started"));
  ASSERT_TRUE(store_->RecordScheduleRuns(State("acme", T(5)), runs).ok());
  ASSERT_TRUE(store_->RecordScheduleRuns(State("globex", T(9)), {MakeRun("globex", T(9), "emitted")}).ok());
  EXPECT_THAT(Listed("acme", std::nullopt, 2),
              ElementsAre("2026-01-01T05:00:00.000Z started", "2026-01-01T04:00:00.000Z started"));
  EXPECT_THAT(Listed("acme", T(4), 2),
              ElementsAre("2026-01-01T03:00:00.000Z started", "2026-01-01T02:00:00.000Z started"));
  EXPECT_THAT(Listed("globex", std::nullopt, 10), ElementsAre("2026-01-01T09:00:00.000Z emitted"));
  auto states = store_->ListScheduleStates("acme");
  ASSERT_TRUE(states.ok());
  ASSERT_EQ(states->size(), 1u);
  EXPECT_EQ((*states)[0].last_scheduled_for, T(5));
  auto other = store_->GetScheduleState("globex", "nightly");
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_EQ((*other)->last_scheduled_for, T(9));
}

TEST_F(SqliteSchedulesTest, BadInputIsRefusedAndNothingIsWritten) {
  Status st = store_->RecordScheduleRuns(State("acme", T(3)), {MakeRun("acme", T(3), "started"), MakeRun("globex", T(3), "started")});
  EXPECT_TRUE(st.IsInvalidArgument()) << st;
  EXPECT_THAT(st.message(), HasSubstr("record each schedule's runs on their own"));
  st = store_->RecordScheduleRuns(State("acme", T(3)), {MakeRun("acme", T(3), "done")});
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_THAT(st.message(), HasSubstr("outcome 'done'"));
  EXPECT_TRUE(store_->RecordScheduleRuns(State("", T(3)), {}).IsInvalidArgument());
  EXPECT_TRUE(store_->ListScheduleRuns("acme", "nightly", std::nullopt, 0).status().IsInvalidArgument());
  auto state = store_->GetScheduleState("acme", "nightly");
  ASSERT_TRUE(state.ok());
  EXPECT_FALSE(state->has_value());
}

}  // namespace
}  // namespace nurt::store
