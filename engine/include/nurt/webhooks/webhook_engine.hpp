#pragma once
// nurt::webhooks::WebhookEngine — delivers committed events to the org's webhook subscriptions
// (docs/webhooks.md), at least once, signed the Standard Webhooks way.
//
//   MatchOnce: read the cursor "webhooks" -> up to `limit` events after it (Store::ListEventsAfter) ->
//   for each event, the org's ACTIVE subscriptions whose `events` globs match its type (and that
//   existed when it occurred) -> ONE Store::CommitWebhookMatches: one pending delivery per
//   (subscription, event), with the cursor's advance. A crash before the commit matches the events
//   again; after it, never: each event is considered exactly once. Paused subscriptions match nothing.
//
//   DeliverDue: every pending delivery of an active subscription whose next try is due -> POST (30 s
//   timeout, no redirects, 2xx = success) with webhook-id = the delivery id (the same on every try, so
//   a receiver dedupes on it), webhook-timestamp = now, webhook-signature over `id.timestamp.body` ->
//   Store::RecordWebhookAttempt: succeeded, failed (a permanent error, or the policy's tries used up),
//   or pending with the next try's time. A crash between the POST and the record sends it again with
//   the same webhook-id.
//
// Retry policies (after the first try; each delay with ±10 % jitter from env::Random):
//   exponential  5 s, 30 s, 5 min, 30 min, 2 h     immediate  5 s, 5 s, 5 s     none  no retry
//
// Thread-safety: every method may be called from any thread; MatchOnce passes are serialised, and so
// are DeliverDue passes (the daemon runs both from one loop).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/env/id_generator.hpp"
#include "nurt/env/random.hpp"
#include "nurt/store/store.hpp"

namespace nurt::webhooks {

namespace internal {
class SecretBox;
}

struct WebhookEngineOptions {
  store::Store* store = nullptr;      // required; not owned
  const env::Clock* clock = nullptr;  // default env::SystemClock(): due times, webhook-timestamp
  env::Random* random = nullptr;      // default env::SystemRandom(): retry jitter
  env::IdGenerator* ids = nullptr;    // default: ULIDs from `clock` (delivery ids "msg_<ULID>")
  std::string master_secret;          // required: opens the sealed signing secrets
  std::string evaluator = "webhooks"; // the cursor's name
  std::chrono::milliseconds timeout{30000};
  int keep_deliveries = 100;          // finished deliveries kept per subscription
  bool verify_tls = true;             // false: tests with a self-signed receiver only
  std::string ca_file;                // "" = the system's CA bundle
  // Each failed try (and each pass that failed) besides the delivery record; e.g. the daemon's log.
  std::function<void(const std::string& message, const Json& fields)> on_error;
};

// The delays before each retry of `policy` (exponential | immediate | none), without jitter.
const std::vector<std::chrono::milliseconds>& RetryDelays(const std::string& policy);

// The body of a delivery of `event`: {"type","id","timestamp","data": the event envelope}.
std::string EventBody(const store::EventEnvelope& event);

class WebhookEngine {
 public:
  // Errors: InvalidArgument (no store, no master secret).
  static Result<std::unique_ptr<WebhookEngine>> Create(const WebhookEngineOptions& options);
  ~WebhookEngine();

  // One matching pass over at most `limit` events (1..10000); the number read. Errors: Unavailable,
  // Conflict (another matcher of the same name committed: call again), DataLoss.
  Result<int> MatchOnce(int limit = 500);

  // Tries every due delivery (at most `limit`); the number tried. A failing try is not an error of
  // the pass: it is recorded on the delivery.
  Result<int> DeliverDue(int limit = 100);

  // When the earliest pending delivery is due (nullopt: none).
  Result<std::optional<TimePoint>> NextDue();

  // One try of `delivery` now, recorded like any other; with `retry` false a failure is final (test
  // deliveries). Returns the delivery as recorded.
  Result<store::WebhookDelivery> TryNow(const store::WebhookDelivery& delivery, bool retry);

  // Seals / opens a subscription's signing secret (org and id are bound into the sealed text).
  std::string SealSecret(const std::string& secret, const std::string& org_id, const std::string& webhook_id);
  Result<std::string> OpenSecret(const store::WebhookRecord& webhook) const;

  env::IdGenerator* ids() const { return ids_; }
  const env::Clock* clock() const { return options_.clock; }

 private:
  explicit WebhookEngine(const WebhookEngineOptions& options);
  Result<store::WebhookDelivery> Try(const store::WebhookRecord& webhook, const store::WebhookDelivery& delivery,
                                     bool retry);

  WebhookEngineOptions options_;
  std::unique_ptr<env::IdGenerator> own_ids_;
  env::IdGenerator* ids_ = nullptr;
  std::unique_ptr<internal::SecretBox> box_;
  std::mutex match_mu_;
  std::mutex deliver_mu_;
};

}  // namespace nurt::webhooks
