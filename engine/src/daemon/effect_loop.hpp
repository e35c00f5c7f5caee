#pragma once
// The daemon's adapter-effect runner (private to nurt_daemon): a thread that runs an
// effects::EffectDispatcher, woken after each commit and at least every `poll` (retries and breakers
// come due on their own). After a pass that settled effects, `after_pass` runs (the answers it
// committed may have produced internal effects, notifications and rule matches). Stop() lets the
// current pass finish; what is still pending stays in the outbox for the next start.
//
// Thread-safety: Wake()/Stop()/Collect() from any thread.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "nurt/effects/effect_dispatcher.hpp"
#include "nurt/server/logger.hpp"
#include "nurt/server/metrics.hpp"

namespace nurt::daemon {

class EffectLoop {
 public:
  EffectLoop(std::unique_ptr<effects::EffectDispatcher> dispatcher, server::Logger* logger,
             std::chrono::milliseconds poll, std::function<void()> after_pass);
  ~EffectLoop();

  void Wake();
  void Stop();
  // nurt_effects_total{adapter,outcome} and nurt_circuit_breaker_state{adapter,endpoint}
  // (0 closed, 1 half-open, 2 open).
  void Collect(server::MetricsWriter& w) const;
  // Every breaker as {"adapter", "endpoint", "state", "calls", "failures", …} (the dashboard's view).
  Json Breakers() const;

 private:
  void Run();

  std::unique_ptr<effects::EffectDispatcher> dispatcher_;
  server::Logger* logger_;
  std::chrono::milliseconds poll_;
  std::function<void()> after_pass_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nurt::daemon
