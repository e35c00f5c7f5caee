#pragma once
// nurt::engine::TimerService — fires due timers exactly once, in due order, without scanning the store.
//
// Armed timers are kept in memory sorted by due time: loaded from the store by Load (all of them at
// start, in pages), added by the engine after every commit that arms one (TimerListener), and topped up
// by Refresh with what other processes armed since (by arming position, an indexed read). FireDue fires
// every timer due at the clock's now through Engine::FireTimer, which marks it fired in the same commit
// as its event, so a crash at any point neither loses nor repeats a firing. A timer that came due while
// the daemon was down fires at the first FireDue after Load, with its lateness recorded.
//
// A timer found cancelled or fired meanwhile is dropped; one whose instance is suspended or failed is
// tried again after `blocked_retry` (and fires as soon as the instance runs again); one the store could
// not take now (busy) is tried again after a second.
//
// Time comes only from the injected Clock, so tests and `nurt test` scenarios skip days by advancing a
// ManualClock and calling FireDue. Thread-safety: every method may be called from any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "nurt/engine/engine.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/store/store.hpp"

namespace nurt::engine {

struct TimerServiceOptions {
  std::chrono::milliseconds blocked_retry{std::chrono::seconds(60)};
  int page_size = 10000;  // timers read per store query at Load/Refresh
};

struct TimerServiceStats {
  std::int64_t fired = 0;      // committed firings
  std::int64_t dropped = 0;    // found cancelled/fired meanwhile
  std::int64_t failed = 0;     // their event could not be applied (the timer is marked failed)
  std::int64_t deferred = 0;   // instance suspended/failed or store busy: tried again later
  std::size_t pending = 0;     // armed timers in memory
  // Lateness (fired_at - due_at) of the most recent firings, at most 10,000, oldest first.
  std::vector<std::int64_t> recent_lateness_ms;
};

class TimerService final : public TimerListener {
 public:
  TimerService(store::Store* store, const env::Clock* clock, TimerServiceOptions options = {});

  // The engine that fires the timers. REQUIRES: called once, before FireDue; the engine outlives this.
  void Attach(Engine* engine) { engine_ = engine; }

  // Reads armed timers the service has not seen yet (all of them on the first call). Unavailable when
  // the store cannot be read; what was read so far is kept.
  Status Load();
  Status Refresh() { return Load(); }

  // Fires (at most `limit`) timers due now, earliest first. Returns how many were committed.
  int FireDue(int limit = 10000);

  // The earliest due time in memory (nullopt: nothing armed).
  std::optional<TimePoint> NextDue() const;

  // Called when a timer arrives that is due before every other (the daemon's loop wakes to re-plan).
  void SetWakeCallback(std::function<void()> wake);

  TimerServiceStats stats() const;

  // TimerListener: the engine committed these.
  void TimersArmed(const std::vector<store::TimerRecord>& timers) override;

 private:
  using Key = std::tuple<std::int64_t, std::string, std::string>;  // due (ms), org, id
  void AddLocked(std::int64_t due_ms, const std::string& org, const std::string& id);

  store::Store* store_;
  const env::Clock* clock_;
  const TimerServiceOptions options_;
  Engine* engine_ = nullptr;

  mutable std::mutex mu_;
  std::set<Key> queue_;
  std::unordered_set<std::string> queued_ids_;  // org + '\n' + id of what is in queue_
  std::int64_t last_position_ = 0;
  std::function<void()> wake_;
  TimerServiceStats stats_;
};

}  // namespace nurt::engine
