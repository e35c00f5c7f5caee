#include "cli/webhooks_command.hpp"

#include <exception>

#include "nurt/auth/master_secret.hpp"
#include "nurt/core/json.hpp"
#include "nurt/env/file_system.hpp"
#include "nurt/env/random.hpp"
#include "nurt/webhooks/webhook_engine.hpp"
#include "nurt/webhooks/webhook_service.hpp"

namespace nurt::cli {

const char* WebhooksUsage() {
  return R"(
Outbound webhooks (docs/webhooks.md):
  webhooks [ls]                         the org's webhook subscriptions
  webhooks create --url URL [--events 'order.*,invoice.paid'] [--retry exponential|immediate|none]
                  [--allow-http-loopback] [--reason R]
                                        subscribe a URL (the signing secret is shown once)
  webhooks pause|resume|rm ID [--reason R]
                                        stop, restart or delete a subscription
  webhooks test ID                      POST a signed sample event now; prints the receiver's answer
  webhooks deliveries ID [--limit N]    the last deliveries with every try, newest first
)";
}

namespace {

class Run {
 public:
  Run(const WebhooksInvocation& inv, std::ostream& out, std::ostream& err) : inv_(inv), out_(out), err_(err) {}

  int Go() {
    const std::string sub = inv_.args.empty() ? "ls" : inv_.args[0];
    if (sub != "ls" && sub != "create" && sub != "pause" && sub != "resume" && sub != "rm" && sub != "test" &&
        sub != "deliveries") {
      return Usage("unknown webhooks command '" + sub + "' (ls, create, pause, resume, rm, test, deliveries)");
    }
    auto secret = auth::LoadOrCreateSecret(env::LocalFileSystem(), env::SystemRandom(), inv_.secret_file);
    if (!secret.ok()) return Fail(secret.status());
    webhooks::WebhookEngineOptions eo;
    eo.store = inv_.store;
    eo.master_secret = *secret;
    auto engine = webhooks::WebhookEngine::Create(eo);
    if (!engine.ok()) return Fail(engine.status());
    engine_ = std::move(engine).value();
    service_ = std::make_unique<webhooks::WebhookService>(inv_.store, engine_.get(), env::SystemRandom());
    if (sub == "ls") return List();
    if (sub == "create") return Create();
    if (inv_.args.size() != 2) return Usage("name one webhook: nurt webhooks " + sub + " ID");
    const std::string& id = inv_.args[1];
    if (sub == "pause" || sub == "resume") return SetStatus(id, sub == "pause" ? "paused" : "active");
    if (sub == "rm") {
      Status s = service_->Delete(inv_.org, id, inv_.actor, Opt("--reason"));
      if (!s.ok()) return Fail(s);
      return Print(Json{{"deleted", id}}, "deleted webhook " + id);
    }
    if (sub == "test") return Test(id);
    return Deliveries(id);
  }

 private:
  std::string Opt(const std::string& name) const {
    auto it = inv_.options.find(name);
    return it == inv_.options.end() ? "" : it->second;
  }

  int Fail(const Status& s) {
    if (inv_.json) {
      out_ << Json{{"error", {{"code", std::string(StatusCodeName(s.code()))}, {"message", s.message()}}}}.dump(2)
           << "\n";
    } else {
      err_ << "nurt webhooks: " << s.message() << "\n";
    }
    return 1;
  }

  int Usage(const std::string& what) {
    err_ << "nurt webhooks: " << what << "\n" << WebhooksUsage();
    return 2;
  }

  int Print(const Json& j, const std::string& text) {
    if (inv_.json) {
      out_ << j.dump(2) << "\n";
    } else {
      out_ << text << "\n";
    }
    return 0;
  }

  static std::string Line(const store::WebhookRecord& w) {
    std::string events;
    for (const auto& e : w.events) events += (events.empty() ? "" : ",") + e;
    return w.id + "  " + w.status + "  " + w.url + "  events " + events + "  retry " + w.retry_policy;
  }

  int List() {
    if (inv_.args.size() > 1) return Usage("webhooks ls takes no arguments");
    auto hooks = service_->List(inv_.org);
    if (!hooks.ok()) return Fail(hooks.status());
    Json items = Json::array();
    std::string text;
    for (const auto& w : *hooks) {
      items.push_back(w.ToJson());
      text += Line(w) + "\n";
    }
    text += std::to_string(hooks->size()) + (hooks->size() == 1 ? " webhook" : " webhooks");
    return Print(Json{{"items", items}}, text);
  }

  int Create() {
    if (inv_.args.size() > 1) return Usage("webhooks create takes options only (--url URL ...)");
    webhooks::WebhookFields f;
    f.url = Opt("--url");
    if (f.url->empty()) return Usage("--url is required");
    if (!Opt("--events").empty()) {
      std::vector<std::string> events;
      std::string cur;
      for (char c : Opt("--events") + ",") {
        if (c == ',') {
          if (!cur.empty()) events.push_back(cur);
          cur.clear();
        } else if (c != ' ') {
          cur += c;
        }
      }
      f.events = events;
    }
    if (!Opt("--retry").empty()) f.retry_policy = Opt("--retry");
    if (inv_.flags.count("--allow-http-loopback")) f.allow_http_loopback = true;
    auto created = service_->Create(inv_.org, f, inv_.actor, Opt("--reason"));
    if (!created.ok()) return Fail(created.status());
    return Print(Json{{"webhook", created->webhook.ToJson()}, {"secret", created->secret}},
                 "created " + Line(created->webhook) + "\nsigning secret: " + created->secret +
                     "\nthis secret is shown once; give it to the receiver now (it verifies signatures with it)");
  }

  int SetStatus(const std::string& id, const std::string& status) {
    webhooks::WebhookFields f;
    f.status = status;
    auto w = service_->Update(inv_.org, id, f, inv_.actor, Opt("--reason"));
    if (!w.ok()) return Fail(w.status());
    return Print(w->ToJson(), Line(*w));
  }

  int Test(const std::string& id) {
    auto d = service_->SendTest(inv_.org, id, inv_.actor);
    if (!d.ok()) return Fail(d.status());
    const store::WebhookAttempt& a = d->attempt_log.back();
    const bool ok = d->status == "succeeded";
    Print(d->ToJson(), ok ? "delivered: the receiver answered HTTP " + std::to_string(a.http_status)
                          : "not delivered: " + a.error);
    return ok ? 0 : 1;
  }

  int Deliveries(const std::string& id) {
    int limit = 20;
    if (!Opt("--limit").empty()) {
      try {
        std::size_t used = 0;
        limit = std::stoi(Opt("--limit"), &used);
        if (used != Opt("--limit").size()) limit = 0;
      } catch (const std::exception&) {
        limit = 0;
      }
      if (limit < 1 || limit > 100) return Usage("--limit is a whole number from 1 to 100");
    }
    auto list = service_->Deliveries(inv_.org, id, limit);
    if (!list.ok()) return Fail(list.status());
    Json items = Json::array();
    std::string text;
    for (const auto& d : *list) {
      items.push_back(d.ToJson());
      const auto& last = d.attempt_log.empty() ? store::WebhookAttempt{} : d.attempt_log.back();
      text += d.id + "  " + d.event_type + "  " + d.status + "  tries " + std::to_string(d.attempts) +
              (d.attempt_log.empty() ? "" : "  last HTTP " + std::to_string(last.http_status)) +
              (last.error.empty() ? "" : "  " + last.error) + "\n";
    }
    text += std::to_string(list->size()) + (list->size() == 1 ? " delivery" : " deliveries");
    return Print(Json{{"items", items}}, text);
  }

  const WebhooksInvocation& inv_;
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<webhooks::WebhookEngine> engine_;
  std::unique_ptr<webhooks::WebhookService> service_;
};

}  // namespace

int RunWebhooksCommand(const WebhooksInvocation& invocation, std::ostream& out, std::ostream& err) {
  return Run(invocation, out, err).Go();
}

}  // namespace nurt::cli
