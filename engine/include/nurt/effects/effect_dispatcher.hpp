#pragma once
// nurt::effects::EffectDispatcher — runs adapter effects from the outbox (docs/effects.md).
//
// RunOnce() lists the effects due now (Store::ListDueEffects: pending, next_attempt_at <= now, any
// org) and runs them on worker threads, at most Adapter::Concurrency() at once per adapter. For each:
//   1. the input is checked against the adapter's input schema (a mismatch: permanent failure
//      "invalid-input"); an unknown adapter is a permanent failure "unknown-adapter";
//   2. the circuit breaker of the adapter's endpoint is asked: open -> the effect waits until the breaker
//      half-opens (next_attempt_at moves, the try is not used up);
//   3. the adapter executes it (passing the effect's idempotency key on);
//   4. success: the instance gets `<step>.done` (payload = output) through Engine::Accept with the key
//      "effect:<id>:done", then the effect is recorded done. A retryable failure with tries left
//      (retry policy of the effect, else `default_policy`) moves next_attempt_at by the policy's delay
//      with jitter from `random`. Otherwise the effect goes to the dead-letter queue and the instance
//      gets `<step>.failed` with {code, message, retryable, httpStatus, attempts} (key
//      "effect:<id>:failed"; told once, however often an operator retries it).
//   An instance that is suspended (or failed, awaiting an operator) takes no answer: the effect waits
//   `answer_hold` without using up a try, then runs again (the receiver dedupes the repeated call).
//   Every try writes an integration-log line (bodies masked) in the same transaction as its outcome.
// A crash between the call and the record repeats the call with the same idempotency key (receivers
// dedupe on it) and repeats the Accept with the same key (the engine dedupes it): nothing is lost and
// nothing is applied twice in nurt.
//
// Housekeeping (at most once per `housekeeping_every`): dead letters older than dead_letter_ttl and
// integration-log lines older than the org's retention are removed.
//
// Thread-safety: RunOnce() from one thread at a time; Breakers(), Counts() from any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nurt/core/result.hpp"
#include "nurt/dsl/effects.hpp"
#include "nurt/effects/adapter.hpp"
#include "nurt/effects/circuit_breaker.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/env/random.hpp"
#include "nurt/store/store.hpp"

namespace nurt::effects {

struct EffectDispatcherOptions {
  store::Store* store = nullptr;          // required; not owned
  engine::Engine* engine = nullptr;       // required; not owned (answers go back through Accept)
  const AdapterRegistry* adapters = nullptr;  // required; not owned
  const env::Clock* clock = nullptr;      // default: env::SystemClock()
  env::Random* random = nullptr;          // jitter; default: env::SystemRandom()
  int batch_size = 200;                   // due effects read per RunOnce
  dsl::RetryPolicy default_policy;        // for effects without `retry:`; default: exponential
  BreakerOptions breaker;
  std::chrono::hours dead_letter_ttl{24 * 30};
  std::chrono::hours log_retention{24 * 90};
  // Per-org integration-log retention (an org not listed keeps log_retention).
  std::map<std::string, std::chrono::hours> log_retention_by_org;
  std::chrono::minutes housekeeping_every{60};
  // An answer for a suspended (or failed) instance is held back this long, then the effect runs again.
  std::chrono::milliseconds answer_hold{std::chrono::minutes(1)};
};

struct EffectReport {
  int done = 0;        // succeeded (answer delivered)
  int retrying = 0;    // failed, tried again later
  int dead = 0;        // moved to the dead-letter queue
  int deferred = 0;    // held back by an open breaker or a suspended instance
  int unsettled = 0;   // the answer could not be recorded (store busy): tried again next pass
};

// Cumulative counts per adapter since start (metrics).
struct AdapterCounts {
  std::string adapter;
  std::int64_t done = 0, retried = 0, dead = 0, deferred = 0;
};

class EffectDispatcher {
 public:
  // Errors: InvalidArgument when a required collaborator is missing.
  static Result<std::unique_ptr<EffectDispatcher>> Create(EffectDispatcherOptions options);
  ~EffectDispatcher();
  EffectDispatcher(const EffectDispatcher&) = delete;
  EffectDispatcher& operator=(const EffectDispatcher&) = delete;

  // One pass over the effects due now. Errors: only the store's when it cannot list them.
  Result<EffectReport> RunOnce();

  // Every endpoint's breaker, with its adapter, sorted. {adapter, breaker}.
  std::vector<std::pair<std::string, BreakerSnapshot>> Breakers() const;
  std::vector<AdapterCounts> Counts() const;

 private:
  struct Impl;
  explicit EffectDispatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nurt::effects
