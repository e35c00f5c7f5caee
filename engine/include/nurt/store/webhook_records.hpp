#pragma once
// Value types of the outbound webhooks' part of the Store (docs/webhooks.md, docs/store.md
// "Migration 9"). nurt::webhooks owns the rules (URLs, filters, secrets, retries); the store keeps rows.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/time.hpp"

namespace nurt::store {

struct AuditRecord;  // nurt/store/key_store.hpp: every change to a subscription is audited with it

// One subscription of an org: where to POST which committed events, signed with its secret.
struct WebhookRecord {
  std::string org_id;
  std::string id;                   // ULID
  std::string url;                  // https (http only to loopback with allow_http_loopback)
  std::string description;
  std::vector<std::string> events;  // event type globs (dsl::RuleEventMatches): "order.*", "*"
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers, in order
  std::string retry_policy = "exponential";  // exponential | immediate | none
  std::string status = "active";             // active | paused
  bool allow_http_loopback = false;
  std::string secret_sealed;  // the signing secret, sealed by nurt::webhooks (never in clear here)
  TimePoint created_at{};
  std::string created_by;
  TimePoint updated_at{};

  // {"id","url","description","events","headers","retryPolicy","status","allowHttpLoopback",
  //  "createdAt","createdBy","updatedAt"}: never the secret.
  Json ToJson() const;
};

// One try of a delivery.
struct WebhookAttempt {
  int number = 1;              // 1 = the first try
  TimePoint at{};
  std::string outcome;         // succeeded | retryable | failed
  int http_status = 0;         // 0: no answer (connection refused, timeout, ...)
  std::int64_t duration_ms = 0;
  std::string response;        // the first bytes of the receiver's answer
  std::string error;           // "" when it succeeded

  Json ToJson() const;  // {"number","at","outcome","httpStatus","durationMs","response","error"}
};

// One event (or test) to deliver to one subscription, with every try so far.
//   pending --2xx--> succeeded;  pending --permanent error / tries used up--> failed.
struct WebhookDelivery {
  std::string org_id;
  std::string id;          // the webhook-id header: the same on every try (receivers dedupe on it)
  std::string webhook_id;
  std::string event_id;    // the committed event's id (a test delivery: its own id)
  std::string event_type;
  std::string body;        // the JSON body exactly as signed and sent
  bool test = false;       // POST /v1/webhooks/{id}/test
  std::string status = "pending";  // pending | succeeded | failed
  int attempts = 0;
  std::optional<TimePoint> next_attempt_at;  // pending: when the next try is due
  TimePoint created_at{};
  std::optional<TimePoint> finished_at;
  std::vector<WebhookAttempt> attempt_log;  // oldest first

  // {"id","webhookId","eventId","eventType","test","status","attempts","nextAttemptAt","createdAt",
  //  "finishedAt","attemptLog"} (the body is left out: it is the event, readable elsewhere).
  Json ToJson() const;
};

// What one WebhookEngine matching pass commits in ONE transaction: the cursor named `evaluator` moves
// from `expected_position` to `position` together with the deliveries for the events in between.
struct WebhookMatchCommit {
  std::string evaluator = "webhooks";
  std::int64_t expected_position = 0;
  std::int64_t position = 0;
  TimePoint now{};
  std::vector<WebhookDelivery> deliveries;
};

}  // namespace nurt::store
