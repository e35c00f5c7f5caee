#pragma once
// Value types of the effects dispatcher's part of the Store (docs/effects.md, docs/store.md "Migration 8").
//
// An adapter effect is an outbox item whose kind is an adapter name (anything not starting with "nurt.").
// Its lifecycle, on the outbox row:
//   pending(attempts, next_attempt_at) --success--> done
//   pending --retryable failure, tries left--> pending(attempts+1, next_attempt_at later)
//   pending --permanent failure / tries exhausted / skipped by an admin--> failed   (the dead-letter queue)
//   failed --admin retry--> pending(attempts 0, due now);  failed --admin delete / expiry--> gone

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/time.hpp"
#include "nurt/store/records.hpp"

namespace nurt::store {

struct AuditRecord;  // nurt/store/key_store.hpp (the audit log of admin actions)

// An adapter effect with the dispatcher's bookkeeping.
struct EffectRecord {
  OutboxItem item;                 // item.status: pending (retry queue) | done | failed (dead letter)
  int attempts = 0;                // tries made so far (a breaker's fail-fast does not count)
  TimePoint next_attempt_at{};     // pending: not tried before this time
  std::string last_error;          // the last failure's message ("" when none)
  TimePoint updated_at{};          // last change by the dispatcher or an admin (dead letters expire from it)

  // {"id","orgId","instanceId","eventSequence","adapter","payload","idempotencyKey","createdAt","status"
  //  ("pending"|"done"|"dead"),"result","attempts","nextAttemptAt","lastError","updatedAt"}
  Json ToJson() const;
};

// Store::ListEffects filter. Every text field "" = any. Ordered by id (= creation order).
struct EffectFilter {
  std::string status;       // "pending" (the retry queue) | "dead" (the DLQ) | "done" | "" (any)
  std::string adapter;      // the outbox kind
  std::string instance_id;
  std::string after_id;     // cursor: effects with id > after_id
  int limit = 100;          // 1..1000
};

// How an attempt ends, written by Store::RecordEffectAttempt.
struct EffectAttempt {
  std::string org_id;
  std::string id;
  // "retry": stays pending until next_attempt_at; "done": succeeded (result = the adapter's output);
  // "dead": moved to the dead-letter queue (result = {"error": {...}, "reason"}).
  std::string outcome;
  int attempts = 0;                // the new attempt count
  TimePoint next_attempt_at{};     // retry only
  std::string last_error;
  Json result;                     // done/dead
  TimePoint now{};
};

// Counts for the integrations dashboard.
struct EffectCounts {
  std::int64_t pending = 0;        // in the retry queue (never tried or waiting for the next try)
  std::int64_t retrying = 0;       // pending with attempts > 0
  std::int64_t dead = 0;           // in the dead-letter queue
};

// One line of the integration log: one adapter call or webhook delivery (docs/effects.md
// "Integration log"). Bodies are stored as given: callers mask secrets first (effects::MaskSecrets).
struct IntegrationRecord {
  std::string org_id;
  std::int64_t position = 0;       // set by the store (append order)
  TimePoint occurred_at{};
  std::string system;              // adapter name or "webhook:<subscription>"
  std::string direction = "outbound";  // outbound | inbound
  std::string status;              // success | failure | retry | open-circuit
  int http_status = 0;             // 0 = none (transport failure, not HTTP)
  std::int64_t duration_ms = 0;
  std::string request;             // masked request body (may be "")
  std::string response;            // masked response body or error message
  int attempt = 0;                 // which try this was (1 = first)
  std::string effect_id;           // the outbox item ("" when none)
  std::string instance_id;
  std::string event_type;          // what it was about ("order.done", "invoice.paid", …; may be "")
  std::string error;               // the error message when not a success

  Json ToJson() const;             // camelCase; occurredAt ISO-8601
};

// Store::ListIntegrationLog filter.
struct IntegrationFilter {
  std::optional<TimePoint> since;  // default (nullopt): the caller passes now - 7 days
  std::optional<TimePoint> until;
  std::string status;              // "" = any
  std::string system;              // "" = any
  std::string event_type;          // "" = any
  std::string search;              // FTS5 query over request/response bodies ("" = no search)
  std::int64_t before_position = 0;  // cursor: records with position < this (0 = from the newest)
  int limit = 100;                 // 1..1000; newest first
};

// Per-system statistics over a time range.
struct IntegrationStats {
  std::string system;
  std::int64_t calls = 0;
  std::int64_t successes = 0;
  double success_rate = 0;         // successes / calls (0..1)
  double avg_duration_ms = 0;
  std::int64_t p95_duration_ms = 0;
  std::optional<TimePoint> last_success;

  Json ToJson() const;
};

}  // namespace nurt::store
