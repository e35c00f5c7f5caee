#include "daemon/notification_loop.hpp"

#include <chrono>
#include <utility>

namespace nurt::daemon {

NotificationLoop::NotificationLoop(notify::DispatcherOptions options, server::Logger* logger)
    : dispatcher_(std::move(options)), logger_(logger) {
  thread_ = std::thread([this] { Run(); });
}

NotificationLoop::~NotificationLoop() { Stop(); }

void NotificationLoop::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = true;
  }
  cv_.notify_one();
}

void NotificationLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void NotificationLoop::Run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(1), [this] { return pending_ || stopping_; });
      pending_ = false;
      // Unlike internal effects, notifications talk to slow outside servers: on shutdown leave them
      // pending for the next start instead of holding the daemon up.
      if (stopping_) return;
    }
    auto report = dispatcher_.RunOnce();
    if (!report.ok()) {
      logger_->Log(server::LogLevel::kError, "notification dispatch failed",
                   Json{{"error", report.status().ToString()}});
    } else if (report->sent + report->failed + report->retrying > 0) {
      logger_->Log(server::LogLevel::kInfo, "notifications dispatched",
                   Json{{"sent", report->sent}, {"failed", report->failed}, {"dropped", report->dropped},
                        {"retrying", report->retrying}, {"held", report->held}});
    }
  }
}

void NotificationLoop::Collect(server::MetricsWriter& w) const {
  w.Family("nurt_notifications_total",
           "Notifications by organisation, channel and outcome (sent, queued, dropped, failed, retried).",
           server::MetricType::kCounter);
  for (const auto& c : dispatcher_.Counts()) {
    const std::pair<const char*, std::int64_t> outcomes[] = {
        {"sent", c.sent}, {"queued", c.queued}, {"dropped", c.dropped}, {"failed", c.failed},
        {"retried", c.retried}};
    for (const auto& [outcome, n] : outcomes) {
      w.Sample({{"org", c.org}, {"channel", c.channel}, {"outcome", outcome}}, static_cast<double>(n));
    }
  }
}

}  // namespace nurt::daemon
