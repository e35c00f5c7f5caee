#pragma once
// Value types of the schedules part of the Store (docs/store.md "schedule_state", "schedule_runs";
// docs/schedules.md says what the scheduler does with them).

#include <cstdint>
#include <optional>
#include <string>

#include "nurt/core/time.hpp"

namespace nurt::store {

// What the scheduler remembers about one schedule of one org between runs (and restarts).
struct ScheduleState {
  std::string org_id;
  std::string name;
  std::string expression;  // the cron expression and time zone as last seen: a change re-anchors
  std::string time_zone;
  bool enabled = true;     // as last seen: re-enabling re-anchors too
  // Runs strictly after this time are due. The last run handled (run, skipped or failed), or the
  // moment the schedule was first seen / its expression changed (nothing is backfilled before it).
  TimePoint last_scheduled_for{};
  TimePoint updated_at{};
};

// One run of a schedule: executed (started, emitted), skipped by the missed policy, or failed.
struct ScheduleRun {
  std::string org_id;
  std::string name;
  TimePoint scheduled_for{};    // unique per (org, name)
  TimePoint started_at{};       // when the scheduler handled it
  std::int64_t lateness_ms = 0; // started_at - scheduled_for
  std::string outcome;          // started | emitted | skipped | failed
  std::string instance_id;      // started: the new instance; emitted: the receiver ("" when skipped)
  std::int64_t event_sequence = 0;  // the committed event's sequence in that instance (0 if none)
  std::string error;            // failed: why; skipped: which policy skipped it
};

}  // namespace nurt::store
