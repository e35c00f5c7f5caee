#include "daemon/timer_loop.hpp"

#include <algorithm>

namespace nurt::daemon {

TimerLoop::TimerLoop(engine::TimerService* timers, const env::Clock* clock, server::Logger* logger,
                     std::chrono::milliseconds refresh, std::function<void()> after_fire)
    : timers_(timers), clock_(clock), logger_(logger), refresh_(refresh), after_fire_(std::move(after_fire)) {
  timers_->SetWakeCallback([this] { Wake(); });
  thread_ = std::thread([this] { Run(); });
}

TimerLoop::~TimerLoop() { Stop(); }

void TimerLoop::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

void TimerLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  timers_->SetWakeCallback(nullptr);
}

void TimerLoop::Run() {
  TimePoint last_refresh = clock_->Now();
  for (;;) {
    const int fired = timers_->FireDue();
    if (fired > 0 && after_fire_) after_fire_();
    std::chrono::milliseconds wait = refresh_;
    if (auto next = timers_->NextDue()) {
      wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*next - clock_->Now()),
                        std::chrono::milliseconds(0), refresh_);
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, wait, [this] { return woken_ || stopping_; });
      woken_ = false;
      if (stopping_) return;
    }
    if (clock_->Now() - last_refresh >= refresh_) {
      last_refresh = clock_->Now();
      Status st = timers_->Refresh();
      if (!st.ok()) {
        logger_->Log(server::LogLevel::kWarn, "timers: reading newly armed timers failed",
                     Json{{"error", st.ToString()}});
      }
    }
  }
}

}  // namespace nurt::daemon
