#include "nurt/engine/timer_service.hpp"

#include <algorithm>

namespace nurt::engine {

namespace {
constexpr std::size_t kLatenessSamples = 10000;
std::string IdKey(const std::string& org, const std::string& id) { return org + '\n' + id; }
}  // namespace

TimerService::TimerService(store::Store* store, const env::Clock* clock, TimerServiceOptions options)
    : store_(store), clock_(clock), options_(options) {}

void TimerService::AddLocked(std::int64_t due_ms, const std::string& org, const std::string& id) {
  if (!queued_ids_.insert(IdKey(org, id)).second) return;
  queue_.emplace(due_ms, org, id);
}

Status TimerService::Load() {
  for (;;) {
    std::int64_t after;
    {
      std::lock_guard<std::mutex> lock(mu_);
      after = last_position_;
    }
    auto page = store_->ListArmedTimers(after, options_.page_size);
    if (!page.ok()) return page.status();
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& t : *page) {
      AddLocked(ToUnixMillis(t.due_at), t.org_id, t.id);
      last_position_ = std::max(last_position_, t.position);
    }
    if (static_cast<int>(page->size()) < options_.page_size) return Status::Ok();
  }
}

void TimerService::TimersArmed(const std::vector<store::TimerRecord>& timers) {
  bool earliest = false;
  std::function<void()> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& t : timers) {
      const std::int64_t due = ToUnixMillis(t.due_at);
      earliest = earliest || queue_.empty() || due < std::get<0>(*queue_.begin());
      AddLocked(due, t.org_id, t.id);
    }
    wake = wake_;
  }
  if (earliest && wake) wake();
}

int TimerService::FireDue(int limit) {
  if (engine_ == nullptr) return 0;
  const std::int64_t now = ToUnixMillis(clock_->Now());
  std::vector<Key> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!queue_.empty() && static_cast<int>(due.size()) < limit && std::get<0>(*queue_.begin()) <= now) {
      due.push_back(*queue_.begin());
      queued_ids_.erase(IdKey(std::get<1>(due.back()), std::get<2>(due.back())));
      queue_.erase(queue_.begin());
    }
  }
  int fired = 0;
  for (const auto& [due_ms, org, id] : due) {
    auto outcome = engine_->FireTimer(org, id);
    std::lock_guard<std::mutex> lock(mu_);
    if (outcome.ok()) {
      ++fired;
      ++stats_.fired;
      if (stats_.recent_lateness_ms.size() >= kLatenessSamples) {
        stats_.recent_lateness_ms.erase(stats_.recent_lateness_ms.begin(),
                                        stats_.recent_lateness_ms.begin() + kLatenessSamples / 10);
      }
      stats_.recent_lateness_ms.push_back(std::max<std::int64_t>(0, now - due_ms));
      continue;
    }
    const Status& st = outcome.status();
    if (st.IsUnavailable() || st.IsConflict()) {
      ++stats_.deferred;
      AddLocked(now + 1000, org, id);
      continue;
    }
    if (st.IsFailedPrecondition() || st.IsNotFound()) {
      // Not armed any more (dropped), or armed but its instance cannot run now (deferred).
      auto timer = store_->GetTimer(org, id);
      if (timer.ok() && timer->status == "armed") {
        ++stats_.deferred;
        AddLocked(now + options_.blocked_retry.count(), org, id);
      } else if (timer.ok() && timer->status == "failed") {
        ++stats_.failed;
      } else {
        ++stats_.dropped;
      }
      continue;
    }
    ++stats_.failed;  // FireTimer marked it failed (the event could not be applied)
  }
  return fired;
}

std::optional<TimePoint> TimerService::NextDue() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_.empty()) return std::nullopt;
  return FromUnixMillis(std::get<0>(*queue_.begin()));
}

void TimerService::SetWakeCallback(std::function<void()> wake) {
  std::lock_guard<std::mutex> lock(mu_);
  wake_ = std::move(wake);
}

TimerServiceStats TimerService::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  TimerServiceStats s = stats_;
  s.pending = queue_.size();
  return s;
}

}  // namespace nurt::engine
