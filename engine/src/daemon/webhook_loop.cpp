#include "daemon/webhook_loop.hpp"

#include <chrono>

namespace nurt::daemon {

Result<std::unique_ptr<WebhookLoop>> WebhookLoop::Start(const Options& o) {
  webhooks::WebhookEngineOptions eo;
  eo.store = o.store;
  eo.clock = o.clock;
  eo.random = o.random;
  eo.ids = o.ids;
  eo.master_secret = o.master_secret;
  server::Logger* logger = o.logger;
  eo.on_error = [logger](const std::string& message, const Json& fields) {
    logger->Log(server::LogLevel::kWarn, message, fields);
  };
  NURT_ASSIGN_OR_RETURN(auto engine, webhooks::WebhookEngine::Create(eo));
  return std::unique_ptr<WebhookLoop>(new WebhookLoop(std::move(engine), o.logger, o.random, o.store));
}

WebhookLoop::WebhookLoop(std::unique_ptr<webhooks::WebhookEngine> engine, server::Logger* logger,
                         env::Random* random, store::Store* store)
    : engine_(std::move(engine)),
      service_(std::make_unique<webhooks::WebhookService>(store, engine_.get(), random)),
      logger_(logger) {
  thread_ = std::thread([this] { Run(); });
}

WebhookLoop::~WebhookLoop() { Stop(); }

void WebhookLoop::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = true;
  }
  cv_.notify_one();
}

void WebhookLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void WebhookLoop::Pass() {
  for (int round = 0; round < 100; ++round) {
    auto n = engine_->MatchOnce(500);
    if (!n.ok()) {
      // Nothing was committed: the same events are matched on the next pass.
      logger_->Log(server::LogLevel::kError, "webhook matching failed; retrying on the next pass",
                   Json{{"error", n.status().ToString()}});
      break;
    }
    if (*n == 0) break;
  }
  for (int round = 0; round < 100; ++round) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;  // pending deliveries wait in the store for the next start
    }
    auto n = engine_->DeliverDue(100);
    if (!n.ok()) {
      logger_->Log(server::LogLevel::kError, "webhook delivery pass failed; retrying on the next pass",
                   Json{{"error", n.status().ToString()}});
      return;
    }
    if (*n == 0) return;
  }
}

void WebhookLoop::Run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(1), [this] { return pending_ || stopping_; });
      pending_ = false;
      if (stopping_) return;
    }
    Pass();
  }
}

}  // namespace nurt::daemon
