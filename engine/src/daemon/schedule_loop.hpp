#pragma once
// The daemon's schedules (docs/schedules.md): loads the `kind: Schedule` documents of its workflow
// folders for each of its organisations, and runs a thread that sleeps until the scheduler's next due
// time (or at most `max_sleep`, so a changed wall clock is noticed), calls RunDue, and wakes the
// internal-effect delivery. Private to nurt_daemon.
//
// Thread-safety: Stop may be called from any thread, more than once; scheduler() is safe to use from
// API threads while the loop runs.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nurt/core/result.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/env/file_system.hpp"
#include "nurt/schedule/scheduler.hpp"
#include "nurt/server/logger.hpp"
#include "nurt/server/metrics.hpp"
#include "nurt/store/store.hpp"

namespace nurt::daemon {

struct ScheduleLoopOptions {
  engine::Engine* engine = nullptr;        // all required, not owned
  store::Store* store = nullptr;
  const env::Clock* clock = nullptr;
  env::FileSystem* fs = nullptr;
  server::Logger* logger = nullptr;
  server::MetricsRegistry* metrics = nullptr;
  std::vector<std::string> folders;        // the daemon's definition_paths
  std::vector<std::string> orgs;           // the daemon's definition_orgs
  std::function<void()> after_run;         // after a RunDue that ran something (wakes the delivery)
  std::chrono::milliseconds max_sleep{std::chrono::seconds(1)};
};

class ScheduleLoop {
 public:
  // Loads and checks the schedules (every `start.machine` must be published for the org), handles
  // what is due now (first sight anchors at this moment; missed runs follow their policy), then
  // starts the thread. InvalidArgument listing every diagnostic when a Schedule file is invalid.
  static Result<std::unique_ptr<ScheduleLoop>> Start(ScheduleLoopOptions options);
  ~ScheduleLoop();

  schedule::Scheduler* scheduler() { return scheduler_.get(); }
  void Stop();

 private:
  explicit ScheduleLoop(ScheduleLoopOptions options);
  void Run();
  void Record(const store::ScheduleRun& run);

  ScheduleLoopOptions options_;
  std::unique_ptr<schedule::Scheduler> scheduler_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace nurt::daemon
