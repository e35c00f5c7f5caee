// The notify dispatcher's Store method on SQLite (see store.hpp "Notifications").

#include <mutex>

#include "store/sqlite_store.hpp"

namespace nurt::store {
namespace {

// sentAt is written by the dispatcher as FormatIso8601 (fixed width, UTC, milliseconds), so text order
// is time order and the comparison can run in SQL.
constexpr const char* kListNotificationsSent =
    "SELECT json_extract(result, '$.sentAt') FROM outbox "
    "WHERE org_id = ?1 AND kind = 'nurt.notify' AND status = 'done' "
    "AND json_extract(payload, '$.channel') = ?2 AND json_extract(result, '$.sentAt') >= ?3 "
    "ORDER BY 1";

}  // namespace

Result<std::vector<TimePoint>> SqliteStore::ListNotificationsSent(const std::string& org_id,
                                                                  const std::string& channel,
                                                                  TimePoint since) {
  const std::string what = "listing the notifications sent on channel '" + channel + "' of org '" +
                           org_id + "'";
  // On the writer connection: this runs once per channel and process (ReaderLease is private to
  // sqlite_store.cpp), and reading there also sees every completion this process has made.
  std::lock_guard<std::mutex> lock(write_mu_);
  NURT_ASSIGN_OR_RETURN(sqlite::Query q, writer_->Prepare(kListNotificationsSent));
  q.Bind(1, org_id).Bind(2, channel).Bind(3, FormatIso8601(since));
  std::vector<TimePoint> out;
  for (;;) {
    NURT_ASSIGN_OR_RETURN(bool row, q.Next(what));
    if (!row) break;
    auto t = ParseIso8601(q.Text(0));
    if (!t.ok()) return Status::DataLoss(what + ": a result's sentAt is not a time: " + t.status().message());
    out.push_back(*t);
  }
  return out;
}

}  // namespace nurt::store
