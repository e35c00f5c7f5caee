#pragma once
// The daemon's notification sender (private to nurt_daemon): a thread that runs a
// notify::NotificationDispatcher over the store's nurt.notify outbox items, woken after each commit
// (like the delivery loop) and at least once a second (backoffs and throttle windows end on their
// own; a wake-up may be missed). Stop() lets the current pass finish; items still pending stay in the
// outbox for the next start.
//
// Thread-safety: Wake()/Stop()/Counts() from any thread.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "nurt/notify/notification_dispatcher.hpp"
#include "nurt/server/logger.hpp"
#include "nurt/server/metrics.hpp"

namespace nurt::daemon {

class NotificationLoop {
 public:
  NotificationLoop(notify::DispatcherOptions options, server::Logger* logger);
  ~NotificationLoop();

  void Wake();
  void Stop();
  // Writes nurt_notifications_total{org,channel,outcome} (sent, queued, dropped, failed, retried).
  void Collect(server::MetricsWriter& w) const;

 private:
  void Run();

  notify::NotificationDispatcher dispatcher_;
  server::Logger* logger_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nurt::daemon
