#pragma once
// nurt::daemon::Daemon — everything `nurt serve` runs, as one object that tests can start on a loopback
// port in-process and the CLI runs until SIGTERM.
//
//   config ─▶ SQLite store + key store ─▶ Engine ─▶ publish definitions ─▶ Api ─▶ HttpServer
//                                             ├──▶ delivery loop (internal effects: emit to, spawn)
//                                             ├──▶ timer loop (due timers, sorted in memory)
//                                             ├──▶ notification loop (nurt.notify outbox items, channels
//                                             │    from the kind: Channels files in the same folders)
//                                             ├──▶ rules loop (kind: Rules, from the committed event log)
//                                             ├──▶ schedule loop (kind: Schedule, docs/schedules.md)
//                                             └──▶ webhook loop (subscriptions, docs/webhooks.md)
//
// Start returns only when the server listens and is ready. Shutdown is graceful: readiness goes to 503,
// no new connections, in-flight requests finish and get their answers, the delivery loop drains, the
// store closes; then Wait returns.
//
// Thread-safety: Shutdown may be called from any thread (a signal thread), more than once.

#include <cstdint>
#include <memory>
#include <ostream>

#include "nurt/auth/api_key_service.hpp"
#include "nurt/core/result.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/engine/timer_service.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/env/file_system.hpp"
#include "nurt/env/random.hpp"
#include "nurt/server/daemon_config.hpp"

namespace nurt::daemon {

struct DaemonEnvironment {
  const env::Clock* clock = nullptr;  // default env::SystemClock()
  env::Random* random = nullptr;      // default env::SystemRandom()
  env::FileSystem* fs = nullptr;      // default env::LocalFileSystem()
  std::ostream* log = nullptr;        // JSON log lines; default std::clog
};

class Daemon {
 public:
  virtual ~Daemon() = default;

  // Errors: InvalidArgument (configuration, invalid workflows — every diagnostic in the message),
  // Unavailable (store or port cannot be opened), DataLoss (not a nurt database).
  static Result<std::unique_ptr<Daemon>> Start(const server::DaemonConfig& config,
                                               const DaemonEnvironment& environment = {});

  virtual std::uint16_t port() const = 0;
  virtual void Shutdown() = 0;
  virtual void Wait() = 0;

  // For tests and first-run set-up in-process.
  virtual engine::Engine* engine() = 0;
  virtual engine::TimerService* timers() = 0;
  // Makes the timer loop re-plan now (tests that advance a manual clock call it).
  virtual void WakeTimers() = 0;
  virtual auth::ApiKeyService* keys() = 0;
};

}  // namespace nurt::daemon
