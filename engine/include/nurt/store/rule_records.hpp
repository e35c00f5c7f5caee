#pragma once
// Value types of the rules engine's part of the Store (docs/store.md "Migration 6", docs/rules.md).

#include <cstdint>
#include <string>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/time.hpp"
#include "nurt/store/records.hpp"

namespace nurt::store {

// One committed event with its place in the global, commit-ordered feed (all orgs, all instances).
// Positions only grow: a later commit never gets a smaller one.
struct FeedEvent {
  std::int64_t position = 0;
  EventEnvelope event;
};

// One rule's verdict on one event. Unique per (org_id, rule_id, key): a second firing with the same
// once_per key is never written.
struct RuleFiring {
  std::string org_id;
  std::string rule_id;
  std::string key;               // the rendered once_per key (or a per-event key, see docs/rules.md)
  std::string event_id;
  std::string instance_id;       // the entity the event belongs to
  std::int64_t event_position = 0;
  std::int64_t event_sequence = 0;
  TimePoint evaluated_at{};
  // fired: its effects are written now. queued: held back by a throttle; its effects are kept with it
  // and written when it is released (then it becomes fired). dropped: held back and never sent.
  // error: the rule's `when` or an action value failed (detail.error says why); nothing is sent.
  std::string status = "fired";
  TimePoint fired_at{};          // fired: when (the release time for a released firing); else unused
  Json detail = Json::object();
  // Effects: outbox items (instance_id = the entity) and human tasks (on the entity) written with a
  // fired firing, or kept with a queued one. Empty for dropped and error.
  std::vector<OutboxItem> outbox;
  std::vector<TaskRecord> tasks;
};

// A queued firing released by a throttle window that has room again.
struct RuleFiringRelease {
  std::string org_id;
  std::string rule_id;
  std::string key;
  TimePoint released_at{};
};

// What one RulesEngine pass commits in ONE transaction: the evaluator's cursor moves from
// `expected_position` to `position` together with the firings of the events in between and the
// releases of queued firings. Either all of it is written or none.
struct RuleEvaluationCommit {
  std::string evaluator;               // cursor name, e.g. "rules"
  std::int64_t expected_position = 0;  // the cursor as read (0 = never committed)
  std::int64_t position = 0;           // the cursor after this commit (>= expected_position)
  TimePoint now{};
  std::vector<RuleFiring> firings;
  std::vector<RuleFiringRelease> releases;
};

}  // namespace nurt::store
