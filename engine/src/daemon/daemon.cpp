#include "nurt/daemon/daemon.hpp"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "daemon/timer_loop.hpp"
#include "daemon/effect_loop.hpp"
#include "nurt/effects/http_adapter.hpp"
#include "daemon/notification_loop.hpp"
#include "daemon/rules_loop.hpp"
#include "daemon/schedule_loop.hpp"
#include "daemon/webhook_loop.hpp"
#include "nurt/api/api.hpp"
#include "nurt/auth/master_secret.hpp"
#include "nurt/auth/rate_limiter.hpp"
#include "nurt/auth/task_link.hpp"
#include "nurt/engine/workflow_folders.hpp"
#include "nurt/notify/channels.hpp"
#include "nurt/rules/rules_engine.hpp"
#include "nurt/server/http_server.hpp"
#include "nurt/server/logger.hpp"
#include "nurt/server/metrics.hpp"
#include "nurt/store/key_store.hpp"

namespace nurt::daemon {
namespace {

// Delivers committed internal effects (emit to another instance, spawn) in the background: woken after
// each commit that may have produced some, and once a second in case a wake-up was missed or a
// delivery failed transiently.
class DeliveryLoop {
 public:
  DeliveryLoop(engine::Engine* engine, server::Logger* logger) : engine_(engine), logger_(logger) {
    thread_ = std::thread([this] { Run(); });
  }
  ~DeliveryLoop() { Stop(); }

  void Wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_ = true;
    }
    cv_.notify_one();
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, std::chrono::seconds(1), [this] { return pending_ || stopping_; });
        pending_ = false;
      }
      // Drain, also when stopping: what was committed before shutdown is delivered before exit.
      for (int round = 0; round < 100; ++round) {
        auto n = engine_->DeliverInternalEffects(1000);
        if (!n.ok()) {
          logger_->Log(server::LogLevel::kError, "internal effect delivery failed",
                       Json{{"error", n.status().ToString()}});
          break;
        }
        if (*n == 0) break;
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
  }

  engine::Engine* engine_;
  server::Logger* logger_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

class DaemonImpl final : public Daemon {
 public:
  Status Init(const server::DaemonConfig& config, const DaemonEnvironment& environment) {
    clock_ = environment.clock ? environment.clock : env::SystemClock();
    random_ = environment.random ? environment.random : env::SystemRandom();
    fs_ = environment.fs ? environment.fs : env::LocalFileSystem();
    logger_ = std::make_unique<server::Logger>(environment.log ? environment.log : &std::clog,
                                               config.log_level, clock_);

    store::SqliteOptions so;
    so.path = config.sqlite_path;
    so.fsync_on_commit = config.fsync;
    NURT_ASSIGN_OR_RETURN(store_, store::NewSqliteStore(so));
    NURT_ASSIGN_OR_RETURN(key_store_, store::NewSqliteKeyStore(so));
    ids_ = env::NewUlidGenerator(clock_);
    timer_service_ = std::make_unique<engine::TimerService>(store_.get(), clock_);
    engine::EngineOptions eo;
    eo.store = store_.get();
    eo.clock = clock_;
    eo.ids = ids_.get();
    eo.timer_listener = timer_service_.get();
    eo.calendar_for = CalendarsOf(config);
    NURT_ASSIGN_OR_RETURN(engine_, engine::NewEngine(eo));
    timer_service_->Attach(engine_.get());

    NURT_ASSIGN_OR_RETURN(std::string secret,
                          auth::LoadOrCreateSecret(fs_, random_, config.SecretFilePath()));
    keys_ = std::make_unique<auth::ApiKeyService>(key_store_.get(), clock_, random_, ids_.get(), secret);
    rate_limiter_ = std::make_unique<auth::RateLimiter>(clock_);
    task_links_ = std::make_unique<auth::TaskLinkSigner>(auth::DeriveTaskLinkKey(secret));

    NURT_RETURN_IF_ERROR(PublishDefinitions(config));

    metrics_ = std::make_unique<server::MetricsRegistry>();
    metrics_->AddCollector([this](server::MetricsWriter& w) {
      auto counts = store_->CountInstances();
      if (!counts.ok()) {
        logger_->Log(server::LogLevel::kWarn, "metrics: counting instances failed",
                     Json{{"error", counts.status().ToString()}});
        return;
      }
      w.Family("nurt_instances", "Instances by organisation, machine, active states and run status.",
               server::MetricType::kGauge);
      for (const auto& c : *counts) {
        w.Sample({{"org", c.org_id}, {"machine", c.machine}, {"state", c.state}, {"run_status", c.run_status}},
                 static_cast<double>(c.count));
      }
    });
    metrics_->AddCollector([this](server::MetricsWriter& w) {
      const engine::TimerServiceStats s = timer_service_->stats();
      w.Family("nurt_timers_pending", "Armed timers held in memory by this daemon.", server::MetricType::kGauge);
      w.Sample({}, static_cast<double>(s.pending));
      w.Family("nurt_timers_fired_total", "Timers fired (their event committed).", server::MetricType::kCounter);
      w.Sample({}, static_cast<double>(s.fired));
      w.Family("nurt_timers_failed_total", "Timers whose event could not be applied.", server::MetricType::kCounter);
      w.Sample({}, static_cast<double>(s.failed));
      w.Family("nurt_timers_deferred_total", "Firings put off (instance suspended or failed, store busy).",
               server::MetricType::kCounter);
      w.Sample({}, static_cast<double>(s.deferred));
      if (!s.recent_lateness_ms.empty()) {
        std::vector<std::int64_t> l = s.recent_lateness_ms;
        std::sort(l.begin(), l.end());
        w.Family("nurt_timer_lateness_seconds", "Lateness of recent firings (due to fired), by quantile.",
                 server::MetricType::kGauge);
        for (double q : {0.5, 0.99}) {
          const auto at = static_cast<std::size_t>(q * static_cast<double>(l.size() - 1));
          w.Sample({{"quantile", q == 0.5 ? "0.5" : "0.99"}}, static_cast<double>(l[at]) / 1000.0);
        }
      }
    });
    delivery_ = std::make_unique<DeliveryLoop>(engine_.get(), logger_.get());
    NURT_RETURN_IF_ERROR(StartNotifications(config));
    NURT_RETURN_IF_ERROR(StartRules());
    NURT_RETURN_IF_ERROR(StartEffects());
    // Timers that came due while the daemon was down fire now, with their lateness recorded; what fired
    // timers commit is delivered, notified and seen by the rules at once.
    NURT_RETURN_IF_ERROR(timer_service_->Load());
    timer_loop_ = std::make_unique<TimerLoop>(timer_service_.get(), clock_, logger_.get(), config.timer_refresh,
                                              [this] {
                                                delivery_->Wake();
                                                notifications_->Wake();
                                                rules_loop_->Wake();
                                                effects_->Wake();
                                              });
    NURT_ASSIGN_OR_RETURN(schedules_, ScheduleLoop::Start({.engine = engine_.get(), .store = store_.get(),
                                                           .clock = clock_, .fs = fs_, .logger = logger_.get(),
                                                           .metrics = metrics_.get(),
                                                           .folders = config.definition_paths,
                                                           .orgs = config.definition_orgs,
                                                           .after_run = [this] {
                                                             delivery_->Wake();
                                                             notifications_->Wake();
                                                             rules_loop_->Wake();
                                                           }}));
    NURT_ASSIGN_OR_RETURN(webhooks_, WebhookLoop::Start({.store = store_.get(), .clock = clock_, .random = random_,
                                                         .ids = ids_.get(), .master_secret = secret,
                                                         .logger = logger_.get()}));
    api::ApiOptions ao;
    ao.engine = engine_.get();
    ao.store = store_.get();
    ao.keys = keys_.get();
    ao.rate_limiter = config.rate_limiting ? rate_limiter_.get() : nullptr;
    ao.task_links = task_links_.get();
    ao.clock = clock_;
    ao.metrics = metrics_.get();
    ao.logger = logger_.get();
    ao.after_commit = [this] {
      delivery_->Wake();
      notifications_->Wake();
      rules_loop_->Wake();
      webhooks_->Wake();
      effects_->Wake();
    };
    ao.schedules = schedules_->scheduler();
    ao.webhooks = webhooks_->service();
    ao.effect_breakers = [this] { return effects_->Breakers(); };
    api_ = std::make_unique<api::Api>(std::move(ao));

    NURT_ASSIGN_OR_RETURN(
        server_, server::HttpServer::Start(
                     server::ToServerOptions(config),
                     [this](server::HttpRequest& request) { return api_->Handle(request); }, logger_.get(),
                     metrics_.get(), clock_, random_));
    server_->SetReady(true);
    logger_->Log(server::LogLevel::kInfo, "nurt daemon ready",
                 Json{{"address", config.listen_address}, {"port", server_->port()},
                      {"store", config.sqlite_path}, {"threads", config.threads}});
    return Status::Ok();
  }

  std::uint16_t port() const override { return server_->port(); }

  void Shutdown() override {
    std::call_once(shutdown_once_, [this] {
      logger_->Log(server::LogLevel::kInfo, "shutting down: draining requests");
      server_->Shutdown();
      timer_loop_->Stop();
      schedules_->Stop();
      rules_loop_->Stop();  // before delivery: what the rules fire on the way out is delivered
      delivery_->Stop();
      notifications_->Stop();
      webhooks_->Stop();
      effects_->Stop();
      logger_->Log(server::LogLevel::kInfo, "shut down cleanly");
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
      cv_.notify_all();
    });
  }

  void Wait() override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
  }

  ~DaemonImpl() override {
    if (server_) Shutdown();
  }

  engine::Engine* engine() override { return engine_.get(); }
  engine::TimerService* timers() override { return timer_service_.get(); }
  void WakeTimers() override { timer_loop_->Wake(); }
  auth::ApiKeyService* keys() override { return keys_.get(); }

 private:
  // The org's calendar from `calendars:` (else "default", else the built-in one), built once each.
  static std::function<std::shared_ptr<const calendar::BusinessCalendar>(const std::string&)> CalendarsOf(
      const server::DaemonConfig& config) {
    auto built = std::make_shared<std::map<std::string, std::shared_ptr<const calendar::BusinessCalendar>>>();
    for (const auto& [org, spec] : config.calendars) {
      auto c = calendar::BusinessCalendar::Create(spec);  // validated when the configuration was read
      if (c.ok()) (*built)[org] = std::make_shared<const calendar::BusinessCalendar>(std::move(c).value());
    }
    return [built](const std::string& org) -> std::shared_ptr<const calendar::BusinessCalendar> {
      auto it = built->find(org);
      if (it == built->end()) it = built->find("default");
      return it == built->end() ? nullptr : it->second;
    };
  }

  // Channels (kind: Channels files in the definition folders) and the loop that sends notifications.
  Status StartNotifications(const server::DaemonConfig& config) {
    NURT_ASSIGN_OR_RETURN(auto channels, notify::LoadChannelFolders(config.definition_paths, fs_));
    if (!channels.errors.empty()) {
      std::string msg = "notification channel files do not validate; the daemon will not start with them:";
      for (const auto& d : channels.errors) msg += "\n  " + d.ToString();
      return Status::InvalidArgument(msg);
    }
    notify::DispatcherOptions no;
    no.store = store_.get();
    no.clock = clock_;
    no.channels = channels.directory;
    notifications_ = std::make_unique<NotificationLoop>(std::move(no), logger_.get());
    metrics_->AddCollector([this](server::MetricsWriter& w) { notifications_->Collect(w); });
    return Status::Ok();
  }

  Status PublishDefinitions(const server::DaemonConfig& config) {
    for (const auto& org : config.definition_orgs) {
      NURT_ASSIGN_OR_RETURN(auto report,
                            engine::PublishFolders(engine_.get(), org, config.definition_paths, fs_));
      if (!report.errors.empty() || !report.refused.empty()) {
        std::string msg = "workflows in " + std::to_string(report.invalid.size()) +
                          " file(s) do not validate or were refused; the daemon will not start with them:";
        for (const auto& d : report.errors) msg += "\n  " + d.ToString();
        for (const auto& r : report.refused) msg += "\n  " + r.file + ": " + r.status.message();
        return Status::InvalidArgument(msg);
      }
      logger_->Log(server::LogLevel::kInfo, "definitions published",
                   Json{{"org", org}, {"definitions", report.published},
                        {"ruleSets", static_cast<int>(report.rule_sets.size())}});
      rule_sets_[org] = std::move(report.rule_sets);
    }
    return Status::Ok();
  }

  // The rules engine (docs/rules.md): the Rules documents of the definition folders, per org.
  Status StartRules() {
    rules::RulesEngineOptions ro;
    ro.store = store_.get();
    ro.clock = clock_;
    ro.ids = ids_.get();
    ro.on_error = [this](const std::string& msg, const Json& fields) {
      logger_->Log(server::LogLevel::kWarn, msg, fields);
    };
    NURT_ASSIGN_OR_RETURN(rules_, rules::NewRulesEngine(ro));
    for (const auto& [org, sets] : rule_sets_) NURT_RETURN_IF_ERROR(rules_->SetRules(org, sets));
    rules_loop_ = std::make_unique<RulesLoop>(rules_.get(), logger_.get(), [this] {
      delivery_->Wake();
      notifications_->Wake();
    });
    rules_loop_->ExportMetrics(metrics_.get());
    return Status::Ok();
  }

  // Adapter effects (docs/effects.md): the registry and the loop that runs the dispatcher.
  Status StartEffects() {
    NURT_RETURN_IF_ERROR(adapters_.Register(effects::NewHttpAdapter()));
    effects::EffectDispatcherOptions eo;
    eo.store = store_.get();
    eo.engine = engine_.get();
    eo.adapters = &adapters_;
    eo.clock = clock_;
    eo.random = random_;
    NURT_ASSIGN_OR_RETURN(auto dispatcher, effects::EffectDispatcher::Create(std::move(eo)));
    effects_ = std::make_unique<EffectLoop>(std::move(dispatcher), logger_.get(), std::chrono::milliseconds(200),
                                            [this] {
                                              delivery_->Wake();
                                              notifications_->Wake();
                                              rules_loop_->Wake();
                                            });
    metrics_->AddCollector([this](server::MetricsWriter& w) { effects_->Collect(w); });
    return Status::Ok();
  }

  const env::Clock* clock_ = nullptr;
  env::Random* random_ = nullptr;
  env::FileSystem* fs_ = nullptr;
  std::unique_ptr<server::Logger> logger_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::KeyStore> key_store_;
  std::unique_ptr<env::IdGenerator> ids_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<auth::ApiKeyService> keys_;
  std::unique_ptr<auth::RateLimiter> rate_limiter_;
  std::unique_ptr<auth::TaskLinkSigner> task_links_;
  std::unique_ptr<server::MetricsRegistry> metrics_;
  std::unique_ptr<DeliveryLoop> delivery_;
  std::unique_ptr<engine::TimerService> timer_service_;
  std::unique_ptr<TimerLoop> timer_loop_;
  std::unique_ptr<NotificationLoop> notifications_;
  effects::AdapterRegistry adapters_;
  std::unique_ptr<EffectLoop> effects_;
  std::map<std::string, std::vector<std::shared_ptr<const dsl::RuleSet>>> rule_sets_;
  std::unique_ptr<rules::RulesEngine> rules_;
  std::unique_ptr<RulesLoop> rules_loop_;
  std::unique_ptr<ScheduleLoop> schedules_;
  std::unique_ptr<WebhookLoop> webhooks_;
  std::unique_ptr<api::Api> api_;
  std::unique_ptr<server::HttpServer> server_;
  std::once_flag shutdown_once_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

}  // namespace

Result<std::unique_ptr<Daemon>> Daemon::Start(const server::DaemonConfig& config,
                                              const DaemonEnvironment& environment) {
  auto daemon = std::make_unique<DaemonImpl>();
  NURT_RETURN_IF_ERROR(daemon->Init(config, environment));
  return std::unique_ptr<Daemon>(std::move(daemon));
}

}  // namespace nurt::daemon
