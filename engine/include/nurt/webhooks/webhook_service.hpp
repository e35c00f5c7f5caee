#pragma once
// nurt::webhooks::WebhookService — an org's outbound webhook subscriptions (`webhooks:manage`,
// docs/webhooks.md): create, change, pause/resume, delete, rotate the secret, send a test, and the
// last deliveries. Every change is written with an audit record (action "webhook.<verb>") in the same
// transaction.
//
// Secrets: "whsec_" + base64 of 32 random bytes, returned by Create and RotateSecret only (like an
// API key's token), kept sealed with the master secret (WebhookEngine::SealSecret).
//
// Errors: InvalidArgument about one field of the request starts with its JSON pointer as the API
// takes it ("/url: ...", "/events/0: ..."); NotFound (no such webhook in this org); Unavailable.
//
// Thread-safety: every method may be called from any thread.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nurt/core/result.hpp"
#include "nurt/env/random.hpp"
#include "nurt/store/key_store.hpp"
#include "nurt/store/store.hpp"
#include "nurt/webhooks/webhook_engine.hpp"

namespace nurt::webhooks {

// What a create or update request sets; unset fields keep their value (create: the defaults —
// events ["*"], no headers, retry "exponential", status "active", no plain-http loopback).
struct WebhookFields {
  std::optional<std::string> url;  // required on create
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> events;
  std::optional<std::vector<std::pair<std::string, std::string>>> headers;
  std::optional<std::string> retry_policy;
  std::optional<std::string> status;
  std::optional<bool> allow_http_loopback;
};

struct CreatedWebhook {
  store::WebhookRecord webhook;
  std::string secret;  // shown once; nurt cannot show it again
};

class WebhookService {
 public:
  // `store` and `engine` must outlive the service.
  WebhookService(store::Store* store, WebhookEngine* engine, env::Random* random);

  Result<CreatedWebhook> Create(const std::string& org_id, const WebhookFields& fields, const std::string& actor,
                                const std::string& reason);
  Result<store::WebhookRecord> Update(const std::string& org_id, const std::string& id, const WebhookFields& fields,
                                      const std::string& actor, const std::string& reason);
  Status Delete(const std::string& org_id, const std::string& id, const std::string& actor,
                const std::string& reason);
  // A new secret; the old one stops being used at once.
  Result<CreatedWebhook> RotateSecret(const std::string& org_id, const std::string& id, const std::string& actor,
                                      const std::string& reason);
  Result<store::WebhookRecord> Get(const std::string& org_id, const std::string& id);
  Result<std::vector<store::WebhookRecord>> List(const std::string& org_id);

  // POSTs a sample event ("nurt.webhook.test") now, signed like every delivery, once (no retry; paused
  // subscriptions too). Returns the recorded delivery: its attempt log holds the receiver's answer.
  Result<store::WebhookDelivery> SendTest(const std::string& org_id, const std::string& id,
                                          const std::string& actor);
  // The subscription's deliveries, newest first (at most 100 are kept).
  Result<std::vector<store::WebhookDelivery>> Deliveries(const std::string& org_id, const std::string& id,
                                                         int limit = 100);

 private:
  store::AuditRecord Audit(const std::string& org_id, const std::string& id, const std::string& action,
                           const std::string& actor, const std::string& reason, Json detail) const;

  store::Store* store_;
  WebhookEngine* engine_;
  env::Random* random_;
};

}  // namespace nurt::webhooks
