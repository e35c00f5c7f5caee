#include "nurt/effects/effect_dispatcher.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "engine/context_schema.hpp"

namespace nurt::effects {

struct EffectDispatcher::Impl {
  EffectDispatcherOptions o;

  mutable std::mutex mu_;  // breakers_, schemas_, counts_, orgs_seen_
  std::map<std::pair<std::string, std::string>, std::unique_ptr<CircuitBreaker>> breakers_;
  std::map<std::string, std::unique_ptr<engine::ContextSchema>> schemas_;
  std::map<std::string, AdapterCounts> counts_;
  std::set<std::string> orgs_seen_;
  std::optional<TimePoint> last_housekeeping_;

  CircuitBreaker* Breaker(const std::string& adapter, const std::string& endpoint) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& b = breakers_[{adapter, endpoint}];
    if (!b) b = std::make_unique<CircuitBreaker>(endpoint, o.breaker);
    return b.get();
  }

  const engine::ContextSchema* Schema(const Adapter& a) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& s = schemas_[a.Name()];
    if (!s) s = std::make_unique<engine::ContextSchema>(a.InputSchema());
    return s.get();
  }

  void Count(const std::string& adapter, std::int64_t AdapterCounts::*field) {
    std::lock_guard<std::mutex> lock(mu_);
    AdapterCounts& c = counts_[adapter];
    c.adapter = adapter;
    ++(c.*field);
  }

  // A uniform draw from [0, 1) off the injected Random (seeded in tests).
  double Uniform() {
    std::uint8_t bytes[8];
    o.random->Fill(bytes, sizeof bytes);
    std::uint64_t x = 0;
    for (std::uint8_t b : bytes) x = (x << 8) | b;
    return static_cast<double>(x >> 11) / static_cast<double>(std::uint64_t{1} << 53);
  }

  std::chrono::milliseconds Delay(const dsl::RetryPolicy& p, int attempts_made) {
    if (p.delays.empty()) return std::chrono::milliseconds(0);
    const std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(std::max(attempts_made - 1, 0)),
                                                p.delays.size() - 1);
    const double base = static_cast<double>(p.delays[i].count());
    const double factor = p.jitter > 0 ? 1.0 + p.jitter * (2.0 * Uniform() - 1.0) : 1.0;
    return std::chrono::milliseconds(static_cast<std::int64_t>(base * factor));
  }

  // The answer event; AlreadyExists/IdempotencyMismatch mean it was delivered before (a repeat after a
  // crash, or a second failure after an operator's retry): fine.
  Status Answer(const store::EffectRecord& e, const std::string& suffix, const Json& payload, Json* note) {
    engine::EventRequest r;
    r.org_id = e.item.org_id;
    r.instance_id = e.item.instance_id;
    r.event = e.item.payload.value("step", std::string()) + "." + suffix;
    r.data = payload;
    r.idempotency_key = "effect:" + e.item.id + ":" + suffix;
    r.actor = "adapter:" + e.item.kind;
    r.trace_id = e.item.payload.value("traceId", std::string());
    r.causation_id = e.item.id;
    auto out = o.engine->Accept(r);
    if (out.ok()) {
      *note = Json{{"event", r.event}, {"eventSequence", out->event_sequence}};
      return Status::Ok();
    }
    const Status& st = out.status();
    if (st.IsIdempotencyMismatch()) {
      *note = Json{{"event", r.event}, {"delivered", "before"}};
      return Status::Ok();
    }
    if (st.IsUnavailable() || st.IsConflict()) return st;
    if (st.IsFailedPrecondition()) {
      // A suspended (or failed, awaiting an operator) instance takes no events now but may later: hold
      // the answer back instead of losing it.
      auto inst = o.store->GetInstance(e.item.org_id, e.item.instance_id);
      if (inst.ok() && (inst->run_status == "suspended" || inst->run_status == "failed")) {
        return Status::FailedPrecondition("instance '" + e.item.instance_id + "' is " + inst->run_status +
                                          "; the answer " + r.event + " waits until it runs again");
      }
    }
    // The instance does not take it (moved on, ended, unknown): the effect is settled all the same.
    *note = Json{{"event", r.event}, {"rejected", st.ToString()}};
    return Status::Ok();
  }

  store::IntegrationRecord LogLine(const store::EffectRecord& e, const CallResult& r, const std::string& status,
                                   int attempt, TimePoint now) {
    store::IntegrationRecord l;
    l.org_id = e.item.org_id;
    l.occurred_at = now;
    l.system = e.item.kind;
    l.status = status;
    l.http_status = r.http_status;
    l.duration_ms = r.duration_ms;
    l.request = MaskSecrets(r.request_body);
    l.response = MaskSecrets(r.ok ? r.response_body : (r.response_body.empty() ? r.message : r.response_body));
    l.attempt = attempt;
    l.effect_id = e.item.id;
    l.instance_id = e.item.instance_id;
    l.event_type = e.item.payload.value("step", std::string()) + (r.ok ? ".done" : ".failed");
    if (!r.ok) l.error = r.code + ": " + r.message;
    return l;
  }

  // Runs one effect and records how it went.
  void Run(const store::EffectRecord& e, EffectReport* report, std::mutex* report_mu) {
    const TimePoint now = o.clock->Now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      orgs_seen_.insert(e.item.org_id);
    }
    auto bump = [&](int EffectReport::*field) {
      std::lock_guard<std::mutex> lock(*report_mu);
      ++(report->*field);
    };
    // Records the attempt (and its log line); counts it as `field`/`counter`, or as unsettled when the
    // store refused (the effect stays due and is tried again next pass).
    auto settle = [&](const store::EffectAttempt& a, const std::optional<store::IntegrationRecord>& log,
                      int EffectReport::*field, std::int64_t AdapterCounts::*counter) {
      if (o.store->RecordEffectAttempt(a, log).ok()) {
        bump(field);
        Count(e.item.kind, counter);
      } else {
        bump(&EffectReport::unsettled);
      }
    };
    const int attempt = e.attempts + 1;
    dsl::RetryPolicy policy = o.default_policy;
    const Json& retry = e.item.payload.contains("retry") ? e.item.payload["retry"] : Json();
    if (!retry.is_null()) {
      auto p = dsl::ParseRetryPolicy(retry);
      if (p.ok()) policy = *p;
    }
    CallResult r;
    Adapter* adapter = o.adapters->Find(e.item.kind);
    CircuitBreaker* breaker = nullptr;
    if (adapter == nullptr) {
      r.code = "unknown-adapter";
      r.message = "no adapter '" + e.item.kind + "' is registered in this nurt (known: ";
      for (const auto& n : o.adapters->Names()) r.message += n + " ";
      r.message += "); register it, then retry the effect from the dead-letter queue";
    } else {
      EffectCall call;
      call.org_id = e.item.org_id;
      call.effect_id = e.item.id;
      call.instance_id = e.item.instance_id;
      call.machine = e.item.payload.value("machine", std::string());
      call.step = e.item.payload.value("step", std::string());
      call.idempotency_key = e.item.idempotency_key;
      call.input = e.item.payload.contains("input") ? e.item.payload["input"] : Json::object();
      call.attempt = attempt;
      const Status valid = Schema(*adapter)->Check(call.input, "the input of adapter '" + adapter->Name() + "'");
      if (!valid.ok()) {
        r.code = "invalid-input";
        r.message = valid.message() + "; fix the workflow's `call:` input";
        r.request_body = call.input.dump();
      } else {
        breaker = Breaker(adapter->Name(), adapter->Endpoint(call));
        if (!breaker->Allow(now)) {
          // Fail fast: the endpoint is down; wait for the breaker, keep the try.
          store::EffectAttempt wait{e.item.org_id, e.item.id, "retry", e.attempts, breaker->RetryAt(),
                                    "circuit open for " + adapter->Endpoint(call), Json(), now};
          settle(wait, std::nullopt, &EffectReport::deferred, &AdapterCounts::deferred);
          return;
        }
        r = adapter->Execute(call);
        breaker->Record(r.ok, r.ok || r.retryable, o.clock->Now());
      }
    }
    const TimePoint after = o.clock->Now();
    // The answer could not be delivered: store busy (tried again next pass) or the instance is
    // suspended (tried again in a minute; the try is not used up, the receiver dedupes the repeat).
    auto hold = [&](const Status& st) {
      if (!st.IsFailedPrecondition()) {
        bump(&EffectReport::unsettled);
        return;
      }
      store::EffectAttempt wait{e.item.org_id, e.item.id, "retry", e.attempts, after + o.answer_hold,
                                st.message(), Json(), after};
      settle(wait, std::nullopt, &EffectReport::deferred, &AdapterCounts::deferred);
    };
    if (r.ok) {
      Json note;
      if (const Status st = Answer(e, "done", r.output, &note); !st.ok()) {
        hold(st);
        return;
      }
      store::EffectAttempt done{e.item.org_id, e.item.id, "done", attempt, {}, "",
                                Json{{"output", r.output}, {"answer", note}, {"attempts", attempt}}, after};
      settle(done, LogLine(e, r, "success", attempt, after), &EffectReport::done, &AdapterCounts::done);
      return;
    }
    if (r.retryable && attempt < policy.tries) {
      store::EffectAttempt again{e.item.org_id, e.item.id, "retry", attempt, after + Delay(policy, attempt),
                                 r.code + ": " + r.message, Json(), after};
      settle(again, LogLine(e, r, "retry", attempt, after), &EffectReport::retrying, &AdapterCounts::retried);
      return;
    }
    Json error{{"code", r.code}, {"message", r.message}, {"retryable", r.retryable}, {"attempts", attempt}};
    if (r.http_status != 0) error["httpStatus"] = r.http_status;
    const std::string reason = r.retryable ? "tries exhausted (" + std::to_string(attempt) + " of " +
                                                 std::to_string(policy.tries) + ", policy " + policy.name + ")"
                                           : "not retryable: " + r.code;
    Json note;
    if (const Status st = Answer(e, "failed", error, &note); !st.ok()) {
      hold(st);
      return;
    }
    store::EffectAttempt dead{e.item.org_id, e.item.id, "dead", attempt, {}, r.code + ": " + r.message,
                              Json{{"error", error}, {"reason", reason}, {"answer", note}}, after};
    settle(dead, LogLine(e, r, "failure", attempt, after), &EffectReport::dead, &AdapterCounts::dead);
    return;
  }

  void Housekeeping(TimePoint now) {
    if (last_housekeeping_ && now < *last_housekeeping_ + o.housekeeping_every) return;
    last_housekeeping_ = now;
    (void)o.store->ExpireDeadEffects(now - o.dead_letter_ttl);
    std::set<std::string> orgs;
    {
      std::lock_guard<std::mutex> lock(mu_);
      orgs = orgs_seen_;
    }
    for (const auto& [org, keep] : o.log_retention_by_org) orgs.insert(org);
    for (const std::string& org : orgs) {
      auto it = o.log_retention_by_org.find(org);
      const std::chrono::hours keep = it == o.log_retention_by_org.end() ? o.log_retention : it->second;
      (void)o.store->ExpireIntegrationLog(org, now - keep);
    }
  }
};

Result<std::unique_ptr<EffectDispatcher>> EffectDispatcher::Create(EffectDispatcherOptions options) {
  if (options.store == nullptr || options.engine == nullptr || options.adapters == nullptr) {
    return Status::InvalidArgument("the effect dispatcher needs a store, an engine and an adapter registry");
  }
  if (options.clock == nullptr) options.clock = env::SystemClock();
  if (options.random == nullptr) options.random = env::SystemRandom();
  if (options.default_policy.name.empty()) {
    auto p = dsl::ParseRetryPolicy(Json("exponential"));
    if (!p.ok()) return p.status();
    options.default_policy = *p;
  }
  auto impl = std::make_unique<Impl>();
  impl->o = std::move(options);
  return std::unique_ptr<EffectDispatcher>(new EffectDispatcher(std::move(impl)));
}

EffectDispatcher::EffectDispatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EffectDispatcher::~EffectDispatcher() = default;

Result<EffectReport> EffectDispatcher::RunOnce() {
  Impl& d = *impl_;
  const TimePoint now = d.o.clock->Now();
  d.Housekeeping(now);
  NURT_ASSIGN_OR_RETURN(std::vector<store::EffectRecord> due, d.o.store->ListDueEffects(now, d.o.batch_size));
  EffectReport report;
  if (due.empty()) return report;

  // Workers take the oldest effect whose adapter has a free slot; each adapter runs at most
  // Concurrency() calls at once.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<const store::EffectRecord*> queue;
  for (const auto& e : due) queue.push_back(&e);
  std::map<std::string, int> in_flight;
  auto limit = [&](const std::string& kind) {
    Adapter* a = d.o.adapters->Find(kind);
    return a == nullptr ? 1 : std::max(1, a->Concurrency());
  };
  int total_slots = 0;
  std::set<std::string> kinds;
  for (const auto& e : due) kinds.insert(e.item.kind);
  for (const auto& k : kinds) total_slots += limit(k);
  const int workers = std::min<int>(total_slots, static_cast<int>(due.size()));
  std::mutex report_mu;
  auto work = [&] {
    for (;;) {
      const store::EffectRecord* next = nullptr;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] {
          if (queue.empty()) return true;
          for (const auto* e : queue) {
            if (in_flight[e->item.kind] < limit(e->item.kind)) return true;
          }
          return false;
        });
        if (queue.empty()) return;
        for (auto it = queue.begin(); it != queue.end(); ++it) {
          if (in_flight[(*it)->item.kind] < limit((*it)->item.kind)) {
            next = *it;
            queue.erase(it);
            break;
          }
        }
        ++in_flight[next->item.kind];
      }
      d.Run(*next, &report, &report_mu);
      {
        std::lock_guard<std::mutex> lock(mu);
        --in_flight[next->item.kind];
      }
      cv.notify_all();
    }
  };
  if (workers <= 1) {
    work();
  } else {
    std::vector<std::thread> threads;
    for (int i = 0; i < workers; ++i) threads.emplace_back(work);
    for (auto& t : threads) t.join();
  }
  return report;
}

std::vector<std::pair<std::string, BreakerSnapshot>> EffectDispatcher::Breakers() const {
  const TimePoint now = impl_->o.clock->Now();
  std::lock_guard<std::mutex> lock(impl_->mu_);
  std::vector<std::pair<std::string, BreakerSnapshot>> out;
  for (const auto& [key, b] : impl_->breakers_) out.emplace_back(key.first, b->Snapshot(now));
  return out;
}

std::vector<AdapterCounts> EffectDispatcher::Counts() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  std::vector<AdapterCounts> out;
  for (const auto& [name, c] : impl_->counts_) out.push_back(c);
  return out;
}

}  // namespace nurt::effects
