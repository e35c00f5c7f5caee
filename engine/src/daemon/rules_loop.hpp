#pragma once
// RulesLoop — runs the rules engine in the daemon (private to nurt_daemon; docs/rules.md "In the
// daemon"). Woken after each API commit and once a second (events committed by the delivery loop or
// another process, throttle windows opening), it runs RulesEngine::RunOnce until the feed is drained,
// then wakes the delivery loop when something fired (emits and starts are delivered there).
// Metrics: nurt_rule_firings_total{org,rule,outcome} (outcome fired|suppressed|queued|released|
// dropped|error) and nurt_rule_evaluations_total{org,rule}.
//
// Thread-safety: Wake/Stop from any thread; Stop drains the feed once more before returning.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "nurt/rules/rules_engine.hpp"
#include "nurt/server/logger.hpp"
#include "nurt/server/metrics.hpp"

namespace nurt::daemon {

class RulesLoop {
 public:
  // `rules` must outlive the loop; `after_fire` is called (on the loop's thread) after a pass that
  // wrote effects.
  RulesLoop(rules::RulesEngine* rules, server::Logger* logger, std::function<void()> after_fire);
  ~RulesLoop();

  void Wake();
  void Stop();

  // Adds the rule counters to `metrics` (a collector; call once).
  void ExportMetrics(server::MetricsRegistry* metrics);

 private:
  void Run();
  void Drain();

  rules::RulesEngine* rules_;
  server::Logger* logger_;
  std::function<void()> after_fire_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nurt::daemon
