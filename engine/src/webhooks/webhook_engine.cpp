#include "nurt/webhooks/webhook_engine.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "nurt/dsl/rules.hpp"
#include "nurt/notify/sender.hpp"
#include "nurt/notify/webhook_sender.hpp"
#include "webhooks/secret_box.hpp"

namespace nurt::webhooks {
namespace {

using std::chrono::milliseconds;

constexpr std::size_t kResponseExcerpt = 500;

std::string Context(const std::string& org_id, const std::string& webhook_id) { return org_id + "/" + webhook_id; }

std::string Describe(const store::WebhookRecord& w) {
  return "webhook '" + w.id + "' of org '" + w.org_id + "' (" + w.url + ")";
}

bool Matches(const store::WebhookRecord& w, const store::EventEnvelope& e) {
  if (w.org_id != e.org_id || w.status != "active") return false;
  // A subscription sees what happened after it was made, not the history before it.
  if (e.occurred_at < w.created_at) return false;
  return std::any_of(w.events.begin(), w.events.end(),
                     [&](const std::string& glob) { return dsl::RuleEventMatches(glob, e.type); });
}

}  // namespace

const std::vector<milliseconds>& RetryDelays(const std::string& policy) {
  using namespace std::chrono_literals;
  static const std::vector<milliseconds> kExponential = {5s, 30s, 5min, 30min, 2h};
  static const std::vector<milliseconds> kImmediate = {5s, 5s, 5s};
  static const std::vector<milliseconds> kNone = {};
  if (policy == "exponential") return kExponential;
  if (policy == "immediate") return kImmediate;
  return kNone;
}

std::string EventBody(const store::EventEnvelope& event) {
  return Json{{"type", event.type},
              {"id", event.id},
              {"timestamp", FormatIso8601(event.occurred_at)},
              {"data", event.ToJson()}}
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<std::unique_ptr<WebhookEngine>> WebhookEngine::Create(const WebhookEngineOptions& options) {
  if (options.store == nullptr) return Status::InvalidArgument("the webhook engine needs a store");
  if (options.master_secret.empty()) {
    return Status::InvalidArgument("the webhook engine needs the master secret (it seals the signing secrets)");
  }
  return std::unique_ptr<WebhookEngine>(new WebhookEngine(options));
}

WebhookEngine::WebhookEngine(const WebhookEngineOptions& options) : options_(options) {
  if (!options_.clock) options_.clock = env::SystemClock();
  if (!options_.random) options_.random = env::SystemRandom();
  if (options_.ids) {
    ids_ = options_.ids;
  } else {
    own_ids_ = env::NewUlidGenerator(options_.clock);
    ids_ = own_ids_.get();
  }
  box_ = std::make_unique<internal::SecretBox>(options_.master_secret);
}

WebhookEngine::~WebhookEngine() = default;

std::string WebhookEngine::SealSecret(const std::string& secret, const std::string& org_id,
                                      const std::string& webhook_id) {
  return box_->Seal(secret, Context(org_id, webhook_id), options_.random);
}

Result<std::string> WebhookEngine::OpenSecret(const store::WebhookRecord& webhook) const {
  auto secret = box_->Open(webhook.secret_sealed, Context(webhook.org_id, webhook.id));
  if (!secret.ok()) return secret.status().WithContext(Describe(webhook));
  return secret;
}

Result<int> WebhookEngine::MatchOnce(int limit) {
  std::lock_guard<std::mutex> lock(match_mu_);
  store::Store* s = options_.store;
  NURT_ASSIGN_OR_RETURN(std::int64_t cursor, s->GetRuleCursor(options_.evaluator));
  NURT_ASSIGN_OR_RETURN(std::vector<store::FeedEvent> feed, s->ListEventsAfter(cursor, limit));
  if (feed.empty()) return 0;
  NURT_ASSIGN_OR_RETURN(std::vector<store::WebhookRecord> hooks, s->ListWebhooks(""));
  const TimePoint now = options_.clock->Now();
  store::WebhookMatchCommit commit;
  commit.evaluator = options_.evaluator;
  commit.expected_position = cursor;
  commit.position = feed.back().position;
  commit.now = now;
  for (const store::FeedEvent& f : feed) {
    for (const store::WebhookRecord& w : hooks) {
      if (!Matches(w, f.event)) continue;
      store::WebhookDelivery d;
      d.org_id = w.org_id;
      d.id = "msg_" + ids_->NewId();
      d.webhook_id = w.id;
      d.event_id = f.event.id;
      d.event_type = f.event.type;
      d.body = EventBody(f.event);
      d.created_at = now;
      d.next_attempt_at = now;
      commit.deliveries.push_back(std::move(d));
    }
  }
  NURT_RETURN_IF_ERROR(s->CommitWebhookMatches(commit));
  return static_cast<int>(feed.size());
}

Result<int> WebhookEngine::DeliverDue(int limit) {
  std::lock_guard<std::mutex> lock(deliver_mu_);
  NURT_ASSIGN_OR_RETURN(std::vector<store::WebhookDelivery> due,
                        options_.store->ListDueWebhookDeliveries(options_.clock->Now(), limit));
  std::map<std::pair<std::string, std::string>, store::WebhookRecord> hooks;
  int tried = 0;
  for (const store::WebhookDelivery& d : due) {
    auto key = std::make_pair(d.org_id, d.webhook_id);
    auto it = hooks.find(key);
    if (it == hooks.end()) {
      auto w = options_.store->GetWebhook(d.org_id, d.webhook_id);
      if (w.status().IsNotFound()) continue;  // deleted meanwhile: its deliveries went with it
      if (!w.ok()) return w.status();
      it = hooks.emplace(key, std::move(w).value()).first;
    }
    auto done = Try(it->second, d, /*retry=*/true);
    if (!done.ok() && !done.status().IsFailedPrecondition() && !done.status().IsNotFound()) return done.status();
    ++tried;
  }
  return tried;
}

Result<std::optional<TimePoint>> WebhookEngine::NextDue() { return options_.store->NextWebhookDeliveryDue(); }

Result<store::WebhookDelivery> WebhookEngine::TryNow(const store::WebhookDelivery& delivery, bool retry) {
  NURT_ASSIGN_OR_RETURN(store::WebhookRecord w, options_.store->GetWebhook(delivery.org_id, delivery.webhook_id));
  return Try(w, delivery, retry);
}

Result<store::WebhookDelivery> WebhookEngine::Try(const store::WebhookRecord& w, const store::WebhookDelivery& d,
                                                  bool retry) {
  const TimePoint started = options_.clock->Now();
  store::WebhookAttempt attempt;
  attempt.number = d.attempts + 1;
  attempt.at = started;
  notify::PostOutcome out;
  auto secret = OpenSecret(w);
  if (!secret.ok()) {
    out.status = secret.status();
  } else {
    notify::SignedPost post;
    post.what = Describe(w);
    post.url = w.url;
    post.allow_http_loopback = w.allow_http_loopback;
    post.secret = *secret;
    post.id = d.id;
    post.timestamp = started;
    post.body = d.body;
    post.headers = w.headers;
    post.timeout = options_.timeout;
    post.verify_tls = options_.verify_tls;
    post.ca_file = options_.ca_file;
    out = notify::PostSignedWebhook(post);
  }
  attempt.http_status = out.http_status;
  attempt.duration_ms = std::chrono::duration_cast<milliseconds>(options_.clock->Now() - started).count();
  attempt.response = out.response.substr(0, kResponseExcerpt);
  std::string status = "succeeded";
  std::optional<TimePoint> next;
  if (out.status.ok()) {
    attempt.outcome = "succeeded";
  } else {
    attempt.error = out.status.message();
    const auto& delays = RetryDelays(w.retry_policy);
    const auto retry_index = static_cast<std::size_t>(d.attempts);  // the retry that would follow
    if (retry && notify::IsRetryable(out.status) && retry_index < delays.size()) {
      attempt.outcome = "retryable";
      status = "pending";
      std::uint32_t r = 0;
      options_.random->Fill(reinterpret_cast<std::uint8_t*>(&r), sizeof r);
      const double jitter = 0.9 + 0.2 * (static_cast<double>(r) / 4294967295.0);  // ±10 %
      next = started + milliseconds(static_cast<std::int64_t>(static_cast<double>(delays[retry_index].count()) * jitter));
    } else {
      attempt.outcome = "failed";
      status = "failed";
    }
    if (options_.on_error) {
      options_.on_error("webhook delivery try failed",
                        Json{{"org", d.org_id}, {"webhook", d.webhook_id}, {"delivery", d.id},
                             {"attempt", attempt.number}, {"outcome", attempt.outcome}, {"error", attempt.error}});
    }
  }
  NURT_RETURN_IF_ERROR(options_.store->RecordWebhookAttempt(d.org_id, d.id, attempt, status, next,
                                                            options_.keep_deliveries));
  store::WebhookDelivery recorded = d;
  recorded.attempts += 1;
  recorded.status = status;
  recorded.next_attempt_at = next;
  if (status != "pending") recorded.finished_at = started;
  recorded.attempt_log.push_back(attempt);
  return recorded;
}

}  // namespace nurt::webhooks
