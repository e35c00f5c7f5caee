#include "daemon/schedule_loop.hpp"

#include <algorithm>

#include "nurt/schedule/schedule_folders.hpp"

namespace nurt::daemon {

ScheduleLoop::ScheduleLoop(ScheduleLoopOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<ScheduleLoop>> ScheduleLoop::Start(ScheduleLoopOptions options) {
  NURT_ASSIGN_OR_RETURN(schedule::FolderSchedules loaded, schedule::LoadScheduleFolders(options.folders, options.fs));
  std::unique_ptr<ScheduleLoop> loop(new ScheduleLoop(std::move(options)));
  ScheduleLoopOptions& o = loop->options_;
  std::vector<dsl::Diagnostic> errors = loaded.errors;
  for (const auto& org : o.orgs) {
    NURT_ASSIGN_OR_RETURN(auto definitions, o.store->ListDefinitions(org));
    std::vector<std::string> machines;
    for (const auto& d : definitions) {
      if (std::find(machines.begin(), machines.end(), d.name) == machines.end()) machines.push_back(d.name);
    }
    for (auto& d : dsl::CheckScheduleMachines(loaded.schedules, machines)) {
      d.message = "org '" + org + "': " + d.message;
      errors.push_back(std::move(d));
    }
  }
  if (!errors.empty()) {
    std::string msg = "schedules in " + std::to_string(loaded.invalid.size() + (errors.size() - loaded.errors.size())) +
                      " place(s) do not validate; the daemon will not start with them:";
    for (const auto& d : errors) msg += "\n  " + d.ToString();
    return Status::InvalidArgument(msg);
  }

  schedule::SchedulerOptions so;
  so.engine = o.engine;
  so.store = o.store;
  so.clock = o.clock;
  ScheduleLoop* self = loop.get();
  so.on_run = [self](const store::ScheduleRun& run) { self->Record(run); };
  so.on_warning = [logger = o.logger](const std::string& org, const std::string& name, const std::string& message) {
    logger->Log(server::LogLevel::kWarn, "schedule: " + message, Json{{"org", org}, {"schedule", name}});
  };
  loop->scheduler_ = std::make_unique<schedule::Scheduler>(std::move(so));
  for (const auto& org : o.orgs) loop->scheduler_->SetSchedules(org, loaded.schedules);
  std::vector<std::string> names;
  for (const auto& s : loaded.schedules) names.push_back(s->name);
  o.logger->Log(server::LogLevel::kInfo, "schedules loaded", Json{{"orgs", o.orgs}, {"schedules", names}});
  // The first pass runs before Start returns: a schedule seen for the first time is anchored at the
  // daemon's start (not whenever the thread first gets to it), and runs missed while the daemon was
  // down are handled before it reports ready.
  auto first = loop->scheduler_->RunDue();
  if (!first.ok()) {
    o.logger->Log(server::LogLevel::kError, "schedules: running due schedules failed",
                  Json{{"error", first.status().ToString()}});
  } else if (!first->runs.empty() && o.after_run) {
    o.after_run();
  }
  loop->thread_ = std::thread([self] { self->Run(); });
  return loop;
}

ScheduleLoop::~ScheduleLoop() { Stop(); }

void ScheduleLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ScheduleLoop::Record(const store::ScheduleRun& run) {
  const server::Labels labels = {{"org", run.org_id}, {"schedule", run.name}, {"outcome", run.outcome}};
  options_.metrics->counter("nurt_schedule_runs_total", "Schedule runs handled, by outcome (started, emitted, skipped, failed).",
                            labels)
      .Inc();
  if (run.outcome != "skipped") {
    options_.metrics
        ->histogram("nurt_schedule_lateness_seconds", "How late schedule runs were executed after their scheduled time.",
                    {{"org", run.org_id}, {"schedule", run.name}}, {0.01, 0.1, 1, 10, 60, 600, 3600, 86400})
        .Observe(static_cast<double>(run.lateness_ms) / 1000.0);
  }
  options_.logger->Log(run.outcome == "failed" ? server::LogLevel::kWarn : server::LogLevel::kInfo, "schedule run",
                       Json{{"org", run.org_id},
                            {"schedule", run.name},
                            {"scheduledFor", FormatIso8601(run.scheduled_for)},
                            {"outcome", run.outcome},
                            {"lateMs", run.lateness_ms},
                            {"instance", run.instance_id},
                            {"error", run.error}});
}

void ScheduleLoop::Run() {
  for (;;) {
    const TimePoint now = options_.clock->Now();
    const std::optional<TimePoint> next = scheduler_->NextDue();
    if (next && *next <= now) {
      auto report = scheduler_->RunDue();
      if (!report.ok()) {
        options_.logger->Log(server::LogLevel::kError, "schedules: running due schedules failed",
                             Json{{"error", report.status().ToString()}});
      } else if (!report->runs.empty() && options_.after_run) {
        options_.after_run();
      }
    }
    // Sleep until the next run, on the wall clock but at most max_sleep: the injected clock may be
    // virtual (tests) or jump (NTP), and NextDue may move when RunDue ran or failed transiently.
    std::chrono::milliseconds wait = options_.max_sleep;
    const std::optional<TimePoint> after = scheduler_->NextDue();
    const TimePoint later = options_.clock->Now();
    if (after) wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*after - later),
                                 std::chrono::milliseconds(0), options_.max_sleep);
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, wait, [this] { return stopping_; })) return;
  }
}

}  // namespace nurt::daemon
