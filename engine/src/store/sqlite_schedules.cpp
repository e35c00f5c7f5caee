// The schedules part of SqliteStore (docs/store.md "schedule_state", "schedule_runs"): what the
// scheduler remembers between runs and the record of every run it handled.
//
// Reads go through the writer connection (under write_mu_) rather than the reader pool: the scheduler
// reads a state once per schedule per wake-up and the API lists runs on demand, so they never compete
// with event commits for long, and this file depends on nothing of the pool's internals.

#include <mutex>
#include <string>
#include <vector>

#include "store/sqlite_store.hpp"

namespace nurt::store {

using sqlite::Connection;
using sqlite::Query;
using sqlite::WriteTransaction;

namespace {

constexpr const char* kUpsertScheduleState =
    "INSERT INTO schedule_state (org_id, name, expression, time_zone, enabled, last_scheduled_for, "
    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (org_id, name) DO UPDATE SET expression = ?3, time_zone = ?4, enabled = ?5, "
    "last_scheduled_for = ?6, updated_at = ?7";
constexpr const char* kInsertScheduleRun =
    "INSERT INTO schedule_runs (org_id, name, scheduled_for, started_at, lateness_ms, outcome, "
    "instance_id, event_sequence, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (org_id, name, scheduled_for) DO NOTHING";
#define NURT_SCHEDULE_STATE_COLUMNS \
  "org_id, name, expression, time_zone, enabled, last_scheduled_for, updated_at"
constexpr const char* kGetScheduleState =
    "SELECT " NURT_SCHEDULE_STATE_COLUMNS " FROM schedule_state WHERE org_id = ?1 AND name = ?2";
constexpr const char* kListScheduleStates =
    "SELECT " NURT_SCHEDULE_STATE_COLUMNS " FROM schedule_state WHERE org_id = ?1 ORDER BY name";
#define NURT_SCHEDULE_RUN_COLUMNS \
  "org_id, name, scheduled_for, started_at, lateness_ms, outcome, instance_id, event_sequence, error"
// ?3 NULL = from the newest. Walks the primary key backwards.
constexpr const char* kListScheduleRuns =
    "SELECT " NURT_SCHEDULE_RUN_COLUMNS " FROM schedule_runs WHERE org_id = ?1 AND name = ?2 "
    "AND (?3 IS NULL OR scheduled_for < ?3) ORDER BY scheduled_for DESC LIMIT ?4";

std::string ScheduleName(const std::string& org_id, const std::string& name) {
  return "schedule '" + name + "' of org '" + org_id + "'";
}

ScheduleState ReadState(const Query& q) {
  ScheduleState s;
  s.org_id = q.Text(0);
  s.name = q.Text(1);
  s.expression = q.Text(2);
  s.time_zone = q.Text(3);
  s.enabled = q.Int64(4) != 0;
  s.last_scheduled_for = FromUnixMillis(q.Int64(5));
  s.updated_at = FromUnixMillis(q.Int64(6));
  return s;
}

ScheduleRun ReadRun(const Query& q) {
  ScheduleRun r;
  r.org_id = q.Text(0);
  r.name = q.Text(1);
  r.scheduled_for = FromUnixMillis(q.Int64(2));
  r.started_at = FromUnixMillis(q.Int64(3));
  r.lateness_ms = q.Int64(4);
  r.outcome = q.Text(5);
  r.instance_id = q.Text(6);
  r.event_sequence = q.Int64(7);
  r.error = q.Text(8);
  return r;
}

}  // namespace

Result<std::optional<ScheduleState>> SqliteStore::GetScheduleState(const std::string& org_id,
                                                                   const std::string& name) {
  std::lock_guard<std::mutex> lock(write_mu_);
  NURT_ASSIGN_OR_RETURN(Query q, writer_->Prepare(kGetScheduleState));
  q.Bind(1, org_id).Bind(2, name);
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading the state of " + ScheduleName(org_id, name)));
  if (!row) return std::optional<ScheduleState>();
  return std::optional<ScheduleState>(ReadState(q));
}

Result<std::vector<ScheduleState>> SqliteStore::ListScheduleStates(const std::string& org_id) {
  std::lock_guard<std::mutex> lock(write_mu_);
  NURT_ASSIGN_OR_RETURN(Query q, writer_->Prepare(kListScheduleStates));
  q.Bind(1, org_id);
  std::vector<ScheduleState> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing the schedules of org '" + org_id + "'"));
    if (!row) break;
    out.push_back(ReadState(q));
  }
  return out;
}

Status SqliteStore::RecordScheduleRuns(const ScheduleState& state, const std::vector<ScheduleRun>& runs) {
  if (state.org_id.empty() || state.name.empty()) {
    return Status::InvalidArgument("a schedule state needs an org and a name (got org '" + state.org_id +
                                   "', name '" + state.name + "')");
  }
  const std::string who = ScheduleName(state.org_id, state.name);
  for (const ScheduleRun& r : runs) {
    if (r.org_id != state.org_id || r.name != state.name) {
      return Status::InvalidArgument("recording runs of " + who + ": a run of schedule '" + r.name + "' of org '" +
                                     r.org_id + "' is among them; record each schedule's runs on their own");
    }
    if (r.outcome != "started" && r.outcome != "emitted" && r.outcome != "skipped" && r.outcome != "failed") {
      return Status::InvalidArgument("recording a run of " + who + ": outcome '" + r.outcome +
                                     "' is not one of started, emitted, skipped, failed");
    }
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  WriteTransaction tx(w);
  NURT_RETURN_IF_ERROR(tx.Begin("recording runs of " + who));
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kUpsertScheduleState));
    q.Bind(1, state.org_id).Bind(2, state.name).Bind(3, state.expression).Bind(4, state.time_zone);
    q.Bind(5, std::int64_t{state.enabled ? 1 : 0})
        .Bind(6, ToUnixMillis(state.last_scheduled_for))
        .Bind(7, ToUnixMillis(state.updated_at));
    NURT_RETURN_IF_ERROR(q.Run("writing the state of " + who));
  }
  for (const ScheduleRun& r : runs) {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertScheduleRun));
    q.Bind(1, r.org_id).Bind(2, r.name).Bind(3, ToUnixMillis(r.scheduled_for)).Bind(4, ToUnixMillis(r.started_at));
    q.Bind(5, r.lateness_ms).Bind(6, r.outcome).Bind(7, r.instance_id).Bind(8, r.event_sequence).Bind(9, r.error);
    NURT_RETURN_IF_ERROR(q.Run("recording the run of " + who + " scheduled for " + FormatIso8601(r.scheduled_for)));
  }
  return tx.Commit("recording runs of " + who);
}

Result<std::vector<ScheduleRun>> SqliteStore::ListScheduleRuns(const std::string& org_id, const std::string& name,
                                                               std::optional<TimePoint> before, int limit) {
  if (limit < 1 || limit > 1000) {
    return Status::InvalidArgument("schedule run list limit must be from 1 to 1000, got " + std::to_string(limit));
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  NURT_ASSIGN_OR_RETURN(Query q, writer_->Prepare(kListScheduleRuns));
  q.Bind(1, org_id).Bind(2, name);
  if (before) {
    q.Bind(3, ToUnixMillis(*before));
  } else {
    q.BindNull(3);
  }
  q.Bind(4, static_cast<std::int64_t>(limit));
  std::vector<ScheduleRun> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing the runs of " + ScheduleName(org_id, name)));
    if (!row) break;
    out.push_back(ReadRun(q));
  }
  return out;
}

}  // namespace nurt::store
