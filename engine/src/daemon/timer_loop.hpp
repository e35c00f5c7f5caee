#pragma once
// TimerLoop — the daemon's thread that fires due timers (private to the daemon).
//
// Sleeps until the earliest due timer (or until `refresh`, when it reads timers other processes armed),
// wakes early when a commit arms an earlier timer, fires what is due through the TimerService and wakes
// the delivery loop for what the fired transitions sent. Time is the injected Clock's: with a manual
// clock, tests call Wake() after advancing it.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "nurt/engine/timer_service.hpp"
#include "nurt/server/logger.hpp"

namespace nurt::daemon {

class TimerLoop {
 public:
  // `after_fire` runs after a round that fired something (wakes the delivery loop).
  TimerLoop(engine::TimerService* timers, const env::Clock* clock, server::Logger* logger,
            std::chrono::milliseconds refresh, std::function<void()> after_fire);
  ~TimerLoop();

  void Wake();
  void Stop();

 private:
  void Run();

  engine::TimerService* timers_;
  const env::Clock* clock_;
  server::Logger* logger_;
  const std::chrono::milliseconds refresh_;
  std::function<void()> after_fire_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nurt::daemon
