#include "daemon/effect_loop.hpp"

#include <utility>

namespace nurt::daemon {

EffectLoop::EffectLoop(std::unique_ptr<effects::EffectDispatcher> dispatcher, server::Logger* logger,
                       std::chrono::milliseconds poll, std::function<void()> after_pass)
    : dispatcher_(std::move(dispatcher)), logger_(logger), poll_(poll), after_pass_(std::move(after_pass)) {
  thread_ = std::thread([this] { Run(); });
}

EffectLoop::~EffectLoop() { Stop(); }

void EffectLoop::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = true;
  }
  cv_.notify_one();
}

void EffectLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void EffectLoop::Run() {
  // The first pass runs at once: effects left pending by the previous run (a crash) go out at start.
  bool busy = true;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      // After a pass that did something, go again at once: there may be more due than one batch.
      if (!busy) cv_.wait_for(lock, poll_, [this] { return pending_ || stopping_; });
      pending_ = false;
      // Adapter calls talk to slow outside systems: on shutdown leave the rest pending for the next start.
      if (stopping_) return;
    }
    auto report = dispatcher_->RunOnce();
    busy = false;
    if (!report.ok()) {
      logger_->Log(server::LogLevel::kError, "effect dispatch failed", Json{{"error", report.status().ToString()}});
      continue;
    }
    const int settled = report->done + report->dead;
    busy = settled + report->retrying > 0;
    if (settled > 0 && after_pass_) after_pass_();
    if (report->retrying + report->dead + report->unsettled > 0) {
      logger_->Log(server::LogLevel::kInfo, "effects dispatched",
                   Json{{"done", report->done}, {"retrying", report->retrying}, {"dead", report->dead},
                        {"deferred", report->deferred}, {"unsettled", report->unsettled}});
    }
  }
}

Json EffectLoop::Breakers() const {
  Json out = Json::array();
  for (const auto& [adapter, b] : dispatcher_->Breakers()) {
    Json j = b.ToJson();
    j["adapter"] = adapter;
    out.push_back(std::move(j));
  }
  return out;
}

void EffectLoop::Collect(server::MetricsWriter& w) const {
  w.Family("nurt_effects_total", "Adapter effects by adapter and outcome (done, retried, dead, deferred).",
           server::MetricType::kCounter);
  for (const auto& c : dispatcher_->Counts()) {
    const std::pair<const char*, std::int64_t> outcomes[] = {
        {"done", c.done}, {"retried", c.retried}, {"dead", c.dead}, {"deferred", c.deferred}};
    for (const auto& [outcome, n] : outcomes) {
      w.Sample({{"adapter", c.adapter}, {"outcome", outcome}}, static_cast<double>(n));
    }
  }
  w.Family("nurt_circuit_breaker_state", "Circuit breaker per adapter endpoint: 0 closed, 1 half-open, 2 open.",
           server::MetricType::kGauge);
  for (const auto& [adapter, b] : dispatcher_->Breakers()) {
    const double v = b.state == effects::BreakerState::kOpen ? 2 : b.state == effects::BreakerState::kHalfOpen ? 1 : 0;
    w.Sample({{"adapter", adapter}, {"endpoint", b.endpoint}}, v);
  }
}

}  // namespace nurt::daemon
