#include "nurt/webhooks/webhook_service.hpp"

#include <algorithm>
#include <cctype>

#include "notify/address.hpp"
#include "webhooks/secret_box.hpp"
#include "nurt/core/suggest.hpp"

namespace nurt::webhooks {
namespace {

constexpr std::size_t kMaxEvents = 50;
constexpr std::size_t kMaxHeaders = 20;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Status Field(const std::string& pointer, const std::string& message) {
  return Status::InvalidArgument(pointer + ": " + message);
}

Status CheckEvents(const std::vector<std::string>& events) {
  if (events.empty()) return Field("/events", "list at least one event type or glob (\"*\" for every event)");
  if (events.size() > kMaxEvents) return Field("/events", "at most 50 patterns are allowed");
  for (std::size_t i = 0; i < events.size(); ++i) {
    const std::string& e = events[i];
    const bool ok = !e.empty() && e.size() <= 200 && std::all_of(e.begin(), e.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '*' || c == ':';
    });
    if (!ok) {
      return Field("/events/" + std::to_string(i),
                   "'" + e + "' is not an event type pattern: letters, digits, '.', '_', '-', ':' and '*' "
                   "(e.g. \"order.*\" or \"invoice.paid\")");
    }
  }
  return Status::Ok();
}

Status CheckHeaders(const std::vector<std::pair<std::string, std::string>>& headers) {
  static const std::vector<std::string> kReserved = {"webhook-id", "webhook-timestamp", "webhook-signature",
                                                     "idempotency-key", "content-type", "content-length",
                                                     "host", "expect", "transfer-encoding", "connection"};
  if (headers.size() > kMaxHeaders) return Field("/headers", "at most 20 headers are allowed");
  for (const auto& [name, value] : headers) {
    const std::string at = "/headers/" + name;
    const bool token = !name.empty() && name.size() <= 100 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '-' || c == '_';
    });
    if (!token) return Field(at, "a header name is letters, digits, '-' and '_'");
    if (std::find(kReserved.begin(), kReserved.end(), Lower(name)) != kReserved.end()) {
      return Field(at, "'" + name + "' is set by nurt itself and cannot be overridden");
    }
    if (value.size() > 1000 || std::any_of(value.begin(), value.end(), [](unsigned char c) {
          return c < 0x20 && c != '\t';
        })) {
      return Field(at, "a header value is at most 1000 characters without line breaks or control characters");
    }
  }
  return Status::Ok();
}

Status CheckChoice(const std::string& pointer, const std::string& value, const std::vector<std::string>& choices) {
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return Status::Ok();
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  return Field(pointer, "'" + value + "' is not one of " + list + DidYouMean(value, choices));
}

// Applies `f` to `w` and checks the result.
Status Apply(const WebhookFields& f, store::WebhookRecord* w) {
  if (f.url) w->url = *f.url;
  if (f.description) w->description = *f.description;
  if (f.events) w->events = *f.events;
  if (f.headers) w->headers = *f.headers;
  if (f.retry_policy) w->retry_policy = *f.retry_policy;
  if (f.status) w->status = *f.status;
  if (f.allow_http_loopback) w->allow_http_loopback = *f.allow_http_loopback;
  if (w->url.empty()) return Field("/url", "required: the https:// URL to POST the events to");
  if (Status s = notify::internal::CheckHttpUrl(w->url, w->allow_http_loopback, "/url"); !s.ok()) {
    std::string message = s.message();
    if (auto at = message.find("allow_http_loopback: true"); at != std::string::npos) {
      message.replace(at, 25, "\"allowHttpLoopback\": true");
    }
    return Status::InvalidArgument(message);
  }
  if (w->description.size() > 500) return Field("/description", "at most 500 characters");
  NURT_RETURN_IF_ERROR(CheckEvents(w->events));
  NURT_RETURN_IF_ERROR(CheckHeaders(w->headers));
  NURT_RETURN_IF_ERROR(CheckChoice("/retryPolicy", w->retry_policy, {"exponential", "immediate", "none"}));
  NURT_RETURN_IF_ERROR(CheckChoice("/status", w->status, {"active", "paused"}));
  return Status::Ok();
}

}  // namespace

WebhookService::WebhookService(store::Store* store, WebhookEngine* engine, env::Random* random)
    : store_(store), engine_(engine), random_(random ? random : env::SystemRandom()) {}

store::AuditRecord WebhookService::Audit(const std::string& org_id, const std::string& id, const std::string& action,
                                         const std::string& actor, const std::string& reason, Json detail) const {
  store::AuditRecord a;
  a.org_id = org_id;
  a.id = engine_->ids()->NewId();
  a.occurred_at = engine_->clock()->Now();
  a.actor = actor;
  a.action = action;
  a.target = id;
  a.reason = reason;
  a.detail = std::move(detail);
  return a;
}

Result<CreatedWebhook> WebhookService::Create(const std::string& org_id, const WebhookFields& fields,
                                              const std::string& actor, const std::string& reason) {
  store::WebhookRecord w;
  w.org_id = org_id;
  w.id = engine_->ids()->NewId();
  w.events = {"*"};
  NURT_RETURN_IF_ERROR(Apply(fields, &w));
  w.created_at = w.updated_at = engine_->clock()->Now();
  w.created_by = actor;
  CreatedWebhook out;
  out.secret = internal::NewSigningSecret(random_);
  w.secret_sealed = engine_->SealSecret(out.secret, org_id, w.id);
  NURT_RETURN_IF_ERROR(store_->CreateWebhook(w, Audit(org_id, w.id, "webhook.create", actor, reason, w.ToJson())));
  out.webhook = std::move(w);
  return out;
}

Result<store::WebhookRecord> WebhookService::Update(const std::string& org_id, const std::string& id,
                                                    const WebhookFields& fields, const std::string& actor,
                                                    const std::string& reason) {
  NURT_ASSIGN_OR_RETURN(store::WebhookRecord w, store_->GetWebhook(org_id, id));
  const Json before = w.ToJson();
  NURT_RETURN_IF_ERROR(Apply(fields, &w));
  w.updated_at = engine_->clock()->Now();
  std::string action = "webhook.update";
  if (fields.status && *fields.status != before["status"]) action = *fields.status == "paused" ? "webhook.pause" : "webhook.resume";
  NURT_RETURN_IF_ERROR(store_->UpdateWebhook(
      w, Audit(org_id, id, action, actor, reason, Json{{"before", before}, {"after", w.ToJson()}})));
  return w;
}

Status WebhookService::Delete(const std::string& org_id, const std::string& id, const std::string& actor,
                              const std::string& reason) {
  NURT_ASSIGN_OR_RETURN(store::WebhookRecord w, store_->GetWebhook(org_id, id));
  return store_->DeleteWebhook(org_id, id, Audit(org_id, id, "webhook.delete", actor, reason, w.ToJson()));
}

Result<CreatedWebhook> WebhookService::RotateSecret(const std::string& org_id, const std::string& id,
                                                    const std::string& actor, const std::string& reason) {
  NURT_ASSIGN_OR_RETURN(store::WebhookRecord w, store_->GetWebhook(org_id, id));
  CreatedWebhook out;
  out.secret = internal::NewSigningSecret(random_);
  w.secret_sealed = engine_->SealSecret(out.secret, org_id, w.id);
  w.updated_at = engine_->clock()->Now();
  NURT_RETURN_IF_ERROR(store_->UpdateWebhook(w, Audit(org_id, id, "webhook.rotate_secret", actor, reason, Json::object())));
  out.webhook = std::move(w);
  return out;
}

Result<store::WebhookRecord> WebhookService::Get(const std::string& org_id, const std::string& id) {
  return store_->GetWebhook(org_id, id);
}

Result<std::vector<store::WebhookRecord>> WebhookService::List(const std::string& org_id) {
  if (org_id.empty()) return Status::InvalidArgument("listing webhooks needs an org");
  return store_->ListWebhooks(org_id);
}

Result<store::WebhookDelivery> WebhookService::SendTest(const std::string& org_id, const std::string& id,
                                                        const std::string& actor) {
  NURT_ASSIGN_OR_RETURN(store::WebhookRecord w, store_->GetWebhook(org_id, id));
  const TimePoint now = engine_->clock()->Now();
  store::WebhookDelivery d;
  d.org_id = org_id;
  d.id = "msg_" + engine_->ids()->NewId();
  d.webhook_id = w.id;
  d.event_id = d.id;
  d.event_type = "nurt.webhook.test";
  d.test = true;
  d.created_at = now;
  d.next_attempt_at = now;
  d.body = Json{{"type", d.event_type},
                {"id", d.id},
                {"timestamp", FormatIso8601(now)},
                {"data", {{"message", "A test delivery from nurt: your endpoint receives and verifies webhooks."},
                          {"webhookId", w.id},
                          {"requestedBy", actor}}}}
               .dump();
  NURT_RETURN_IF_ERROR(store_->InsertWebhookDelivery(d));
  return engine_->TryNow(d, /*retry=*/false);
}

Result<std::vector<store::WebhookDelivery>> WebhookService::Deliveries(const std::string& org_id,
                                                                       const std::string& id, int limit) {
  NURT_RETURN_IF_ERROR(store_->GetWebhook(org_id, id).status());
  return store_->ListWebhookDeliveries(org_id, id, limit);
}

}  // namespace nurt::webhooks
