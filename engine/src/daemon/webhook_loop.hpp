#pragma once
// WebhookLoop — outbound webhooks in the daemon (private to nurt_daemon; docs/webhooks.md). Owns the
// WebhookEngine and the WebhookService the API uses. A thread woken after each API commit and at
// least once a second (events committed by other loops, retries coming due) matches new events to
// subscriptions and sends the due deliveries. Stop() lets the current pass finish; pending deliveries
// stay in the store and go out after the next start (with the same webhook-id).
//
// Thread-safety: Wake/Stop from any thread.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "nurt/server/logger.hpp"
#include "nurt/webhooks/webhook_engine.hpp"
#include "nurt/webhooks/webhook_service.hpp"

namespace nurt::daemon {

class WebhookLoop {
 public:
  struct Options {
    store::Store* store = nullptr;
    const env::Clock* clock = nullptr;
    env::Random* random = nullptr;
    env::IdGenerator* ids = nullptr;
    std::string master_secret;
    server::Logger* logger = nullptr;
  };
  static Result<std::unique_ptr<WebhookLoop>> Start(const Options& options);
  ~WebhookLoop();

  webhooks::WebhookService* service() { return service_.get(); }
  void Wake();
  void Stop();

 private:
  WebhookLoop(std::unique_ptr<webhooks::WebhookEngine> engine, server::Logger* logger, env::Random* random,
              store::Store* store);
  void Run();
  void Pass();

  std::unique_ptr<webhooks::WebhookEngine> engine_;
  std::unique_ptr<webhooks::WebhookService> service_;
  server::Logger* logger_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nurt::daemon
