#include "daemon/rules_loop.hpp"

#include <chrono>

namespace nurt::daemon {

RulesLoop::RulesLoop(rules::RulesEngine* rules, server::Logger* logger, std::function<void()> after_fire)
    : rules_(rules), logger_(logger), after_fire_(std::move(after_fire)) {
  thread_ = std::thread([this] { Run(); });
}

RulesLoop::~RulesLoop() { Stop(); }

void RulesLoop::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = true;
  }
  cv_.notify_one();
}

void RulesLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void RulesLoop::Drain() {
  for (int round = 0; round < 100; ++round) {
    auto report = rules_->RunOnce(500);
    if (!report.ok()) {
      // Nothing was committed: the same events are evaluated on the next pass.
      logger_->Log(server::LogLevel::kError, "rule evaluation failed; retrying on the next pass",
                   Json{{"error", report.status().ToString()}});
      return;
    }
    if (report->totals.fired > 0 && after_fire_) after_fire_();
    if (report->events == 0) return;
  }
}

void RulesLoop::Run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(1), [this] { return pending_ || stopping_; });
      pending_ = false;
    }
    Drain();  // also when stopping: events committed before shutdown are evaluated before exit
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
  }
}

void RulesLoop::ExportMetrics(server::MetricsRegistry* metrics) {
  metrics->AddCollector([this](server::MetricsWriter& w) {
    const auto counters = rules_->Counters();
    w.Family("nurt_rule_firings_total",
             "Rule outcomes since the daemon started, by organisation, rule and outcome.",
             server::MetricType::kCounter);
    for (const auto& [key, c] : counters) {
      const auto& [org, rule] = key;
      const std::pair<const char*, std::int64_t> outcomes[] = {
          {"fired", c.fired},     {"suppressed", c.suppressed}, {"queued", c.queued},
          {"released", c.released}, {"dropped", c.dropped},     {"error", c.errors}};
      for (const auto& [outcome, n] : outcomes) {
        w.Sample({{"org", org}, {"rule", rule}, {"outcome", outcome}}, static_cast<double>(n));
      }
    }
    w.Family("nurt_rule_evaluations_total",
             "Events whose type and machine matched a rule, by organisation and rule.",
             server::MetricType::kCounter);
    for (const auto& [key, c] : counters) {
      w.Sample({{"org", key.first}, {"rule", key.second}}, static_cast<double>(c.evaluated));
    }
  });
}

}  // namespace nurt::daemon
