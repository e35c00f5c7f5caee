// SqliteStore: durable timers (docs/store.md "timers").

#include <string>
#include <vector>

#include "store/sqlite_store.hpp"

namespace nurt::store {

using sqlite::Connection;
using sqlite::Query;

namespace {

#define NURT_TIMER_SELECT                                                                              \
  "SELECT position, org_id, id, instance_id, machine, state, timer_index, kind, event, description, " \
  "due_at, armed_at, armed_by_sequence, status, finished_at, lateness_ms, finished_by_sequence, "     \
  "detail FROM timers "

constexpr const char* kInsertTimer =
    "INSERT INTO timers (org_id, id, instance_id, machine, state, timer_index, kind, event, description, "
    "due_at, armed_at, armed_by_sequence, status, finished_at, lateness_ms, finished_by_sequence, detail) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'armed', NULL, 0, 0, ?13)";
constexpr const char* kFireTimer =
    "UPDATE timers SET status = 'fired', finished_at = ?3, lateness_ms = ?4, finished_by_sequence = ?5 "
    "WHERE org_id = ?1 AND id = ?2 AND instance_id = ?6 AND status = 'armed'";
constexpr const char* kCancelStateTimers =
    "UPDATE timers SET status = 'cancelled', finished_at = ?4, finished_by_sequence = ?5, detail = ?6 "
    "WHERE org_id = ?1 AND instance_id = ?2 AND state = ?3 AND status = 'armed'";
constexpr const char* kCancelInstanceTimers =
    "UPDATE timers SET status = 'cancelled', finished_at = ?3, finished_by_sequence = ?4, detail = ?5 "
    "WHERE org_id = ?1 AND instance_id = ?2 AND status = 'armed'";
constexpr const char* kFinishTimer =
    "UPDATE timers SET status = ?3, finished_at = ?4, detail = ?5 "
    "WHERE org_id = ?1 AND id = ?2 AND status = 'armed'";
constexpr const char* kListArmedTimers =
    NURT_TIMER_SELECT "WHERE status = 'armed' AND position > ?1 ORDER BY position LIMIT ?2";
constexpr const char* kGetTimer = NURT_TIMER_SELECT "WHERE org_id = ?1 AND id = ?2";
constexpr const char* kListInstanceTimers =
    NURT_TIMER_SELECT "WHERE org_id = ?1 AND instance_id = ?2 ORDER BY position";

std::string TimerName(const std::string& org_id, const std::string& id) {
  return "timer '" + id + "' of org '" + org_id + "'";
}

TimerRecord ReadTimer(const Query& q) {
  TimerRecord t;
  t.position = q.Int64(0);
  t.org_id = q.Text(1);
  t.id = q.Text(2);
  t.instance_id = q.Text(3);
  t.machine = q.Text(4);
  t.state = q.Text(5);
  t.index = static_cast<int>(q.Int64(6));
  t.kind = q.Text(7);
  t.event = q.Text(8);
  t.description = q.Text(9);
  t.due_at = FromUnixMillis(q.Int64(10));
  t.armed_at = FromUnixMillis(q.Int64(11));
  t.armed_by_sequence = q.Int64(12);
  t.status = q.Text(13);
  if (!q.IsNull(14)) t.finished_at = FromUnixMillis(q.Int64(14));
  t.lateness_ms = q.Int64(15);
  t.finished_by_sequence = q.Int64(16);
  t.detail = q.Text(17);
  return t;
}

}  // namespace

Status SqliteStore::ApplyTimersLocked(Connection* w, const CommitRequest& r) {
  const std::int64_t sequence = r.events.empty() ? 0 : r.events.back().sequence;
  const std::int64_t now = ToUnixMillis(r.instance.updated_at);
  if (r.timer_fired) {
    const TimerFiring& f = *r.timer_fired;
    {
      NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kFireTimer));
      q.Bind(1, r.org_id).Bind(2, f.timer_id).Bind(3, ToUnixMillis(f.fired_at)).Bind(4, f.lateness_ms);
      q.Bind(5, sequence).Bind(6, r.instance_id);
      NURT_RETURN_IF_ERROR(q.Run("firing " + TimerName(r.org_id, f.timer_id)));
    }
    if (w->Changes() != 1) {
      return Status::Conflict(TimerName(r.org_id, f.timer_id) + " of instance '" + r.instance_id +
                              "' is no longer armed (fired or cancelled meanwhile)");
    }
  }
  if (r.cancel_all_timers) {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kCancelInstanceTimers));
    q.Bind(1, r.org_id).Bind(2, r.instance_id).Bind(3, now).Bind(4, sequence).Bind(5, r.cancel_reason);
    NURT_RETURN_IF_ERROR(q.Run("cancelling the timers of instance '" + r.instance_id + "'"));
  } else {
    for (const std::string& state : r.timer_states_cancelled) {
      NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kCancelStateTimers));
      q.Bind(1, r.org_id).Bind(2, r.instance_id).Bind(3, state).Bind(4, now).Bind(5, sequence);
      q.Bind(6, r.cancel_reason.empty() ? "state " + state + " left" : r.cancel_reason);
      NURT_RETURN_IF_ERROR(q.Run("cancelling the timers of state '" + state + "'"));
    }
  }
  for (const TimerRecord& t : r.timers_armed) {
    if (t.org_id != r.org_id || t.instance_id != r.instance_id) {
      return Status::InvalidArgument("commit of instance '" + r.instance_id + "': " + TimerName(t.org_id, t.id) +
                                     " belongs to instance '" + t.instance_id + "'");
    }
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kInsertTimer));
    q.Bind(1, t.org_id).Bind(2, t.id).Bind(3, t.instance_id).Bind(4, t.machine).Bind(5, t.state);
    q.Bind(6, static_cast<std::int64_t>(t.index)).Bind(7, t.kind).Bind(8, t.event).Bind(9, t.description);
    q.Bind(10, ToUnixMillis(t.due_at)).Bind(11, ToUnixMillis(t.armed_at)).Bind(12, t.armed_by_sequence);
    q.Bind(13, t.detail);  // a `send` timer's payload while armed (docs/store.md "timers")
    const int rc = q.Step();
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
      return Status::AlreadyExists(TimerName(t.org_id, t.id) + " is already armed; every timer needs a new id");
    }
    if (rc != SQLITE_DONE) return w->Error(rc, "arming " + TimerName(t.org_id, t.id));
  }
  return Status::Ok();
}

Result<std::vector<TimerRecord>> SqliteStore::ListArmedTimers(std::int64_t after_position, int limit) {
  if (limit <= 0) return Status::InvalidArgument("timer page size must be positive");
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kListArmedTimers));
  q.Bind(1, after_position).Bind(2, static_cast<std::int64_t>(limit));
  std::vector<TimerRecord> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing armed timers"));
    if (!row) break;
    out.push_back(ReadTimer(q));
  }
  return out;
}

Result<TimerRecord> SqliteStore::GetTimer(const std::string& org_id, const std::string& id) {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kGetTimer));
  q.Bind(1, org_id).Bind(2, id);
  NURT_ASSIGN_OR_RETURN(bool row, q.Next("reading " + TimerName(org_id, id)));
  if (!row) return Status::NotFound(TimerName(org_id, id) + " does not exist");
  return ReadTimer(q);
}

Result<std::vector<TimerRecord>> SqliteStore::ListInstanceTimers(const std::string& org_id,
                                                                 const std::string& instance_id) {
  NURT_ASSIGN_OR_RETURN(ReaderLease lease, AcquireReader());
  NURT_ASSIGN_OR_RETURN(Query q, lease.get()->Prepare(kListInstanceTimers));
  q.Bind(1, org_id).Bind(2, instance_id);
  std::vector<TimerRecord> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next("listing the timers of instance '" + instance_id + "'"));
    if (!row) break;
    out.push_back(ReadTimer(q));
  }
  return out;
}

Status SqliteStore::FinishTimer(const std::string& org_id, const std::string& id, const std::string& status,
                                const std::string& detail, TimePoint now) {
  if (status != "failed" && status != "cancelled") {
    return Status::InvalidArgument("a timer can be finished as failed or cancelled, not '" + status + "'");
  }
  std::lock_guard<std::mutex> lock(write_mu_);
  Connection* w = writer_.get();
  {
    NURT_ASSIGN_OR_RETURN(Query q, w->Prepare(kFinishTimer));
    q.Bind(1, org_id).Bind(2, id).Bind(3, status).Bind(4, ToUnixMillis(now)).Bind(5, detail);
    NURT_RETURN_IF_ERROR(q.Run("finishing " + TimerName(org_id, id)));
  }
  if (w->Changes() == 1) return Status::Ok();
  return Status::FailedPrecondition(TimerName(org_id, id) + " is not armed (absent, fired or cancelled already)");
}

}  // namespace nurt::store
