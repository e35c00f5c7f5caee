#include "nurt/notify/notification_dispatcher.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "nurt/core/duration.hpp"
#include "nurt/core/suggest.hpp"
#include "nurt/notify/email_sender.hpp"
#include "nurt/notify/slack_sender.hpp"
#include "nurt/notify/template.hpp"
#include "nurt/notify/webhook_sender.hpp"

namespace nurt::notify {
namespace {

using Key = std::pair<std::string, std::string>;  // org, channel

std::string Quote(const std::string& s) { return "'" + s + "'"; }

struct Retry {
  int attempts = 0;
  TimePoint next_try{};
  std::string last_error;
};

// The throttle window of one org+channel: send times within the last `per`.
struct Window {
  bool loaded = false;
  std::chrono::milliseconds per{0};  // the `per` it was loaded for (reload when the config changes)
  std::deque<TimePoint> sent;
};

// A well-formed payload (docs/notifications.md "The outbox contract").
struct Payload {
  std::string channel;
  std::vector<std::string> to;
  std::optional<std::string> subject;
  std::string body;
  Json vars = Json::object();
  Json origin;
};

Result<Payload> ParsePayload(const Json& p) {
  Payload out;
  if (!p.is_object()) return Status::InvalidArgument("the payload is not a JSON object");
  if (!p.contains("channel") || !p["channel"].is_string() || p["channel"].get<std::string>().empty()) {
    return Status::InvalidArgument("/channel: the payload names no channel (a non-empty string)");
  }
  out.channel = p["channel"].get<std::string>();
  if (!p.contains("body") || !p["body"].is_string()) {
    return Status::InvalidArgument("/body: the payload has no body template (a string)");
  }
  out.body = p["body"].get<std::string>();
  if (p.contains("subject") && !p["subject"].is_null()) {
    if (!p["subject"].is_string()) return Status::InvalidArgument("/subject: must be a string");
    out.subject = p["subject"].get<std::string>();
  }
  if (p.contains("to") && !p["to"].is_null()) {
    if (!p["to"].is_array()) return Status::InvalidArgument("/to: must be a list of email addresses");
    for (std::size_t i = 0; i < p["to"].size(); ++i) {
      if (!p["to"][i].is_string()) {
        return Status::InvalidArgument("/to/" + std::to_string(i) + ": must be an email address (string)");
      }
      out.to.push_back(p["to"][i].get<std::string>());
    }
  }
  if (p.contains("vars") && !p["vars"].is_null()) {
    if (!p["vars"].is_object()) return Status::InvalidArgument("/vars: must be an object");
    out.vars = p["vars"];
  }
  if (p.contains("origin")) out.origin = p["origin"];
  return out;
}

}  // namespace

struct NotificationDispatcher::Impl {
  DispatcherOptions options;
  std::unique_ptr<Sender> own_email, own_slack, own_webhook;

  std::mutex run_mu;  // one RunOnce at a time; guards everything below except counts/channels
  std::map<std::string, Retry> retries;          // outbox id -> retry state
  std::set<std::string> queued;                  // ids held by a throttle (counted once)
  std::map<std::string, std::pair<std::string, Json>> unrecorded;  // id -> (org, result): sent, not completed
  std::map<Key, Window> windows;

  mutable std::mutex mu;  // guards counts and channels
  std::map<Key, ChannelCounts> counts;
  std::shared_ptr<const ChannelDirectory> channels;

  ChannelCounts& Count(const std::string& org, const std::string& channel) {
    ChannelCounts& c = counts[{org, channel}];
    c.org = org;
    c.channel = channel;
    return c;
  }
  void Add(const std::string& org, const std::string& channel, std::int64_t ChannelCounts::*field) {
    std::lock_guard<std::mutex> lock(mu);
    Count(org, channel).*field += 1;
  }

  Sender* SenderFor(ChannelType type) {
    switch (type) {
      case ChannelType::kEmail:
        return options.email ? options.email : own_email.get();
      case ChannelType::kSlack:
        return options.slack ? options.slack : own_slack.get();
      case ChannelType::kWebhook:
        return options.webhook ? options.webhook : own_webhook.get();
    }
    return nullptr;
  }

  // Completes an item; a failure to record is kept for the next run (never resend a sent item).
  void Complete(const store::OutboxItem& item, const std::string& status, const Json& result) {
    Status st = options.store->CompleteOutbox(item.org_id, item.id, status, result);
    retries.erase(item.id);
    queued.erase(item.id);
    if (!st.ok() && !st.IsFailedPrecondition() && !st.IsNotFound()) {
      unrecorded[item.id] = {item.org_id, Json{{"status", status}, {"result", result}}};
    }
  }

  void Fail(const store::OutboxItem& item, const std::string& channel, const std::string& error,
            const std::string& message, DispatchReport* report, int attempts = 0) {
    Json result = {{"channel", channel}, {"error", error}, {"message", message}};
    if (attempts > 0) result["attempts"] = attempts;
    Complete(item, "failed", result);
    Add(item.org_id, channel, &ChannelCounts::failed);
    ++report->failed;
  }

  // Whether the throttle lets one more through now; loads the window on first use.
  Result<bool> HasRoom(const std::string& org, const ChannelConfig& c, TimePoint now) {
    Window& w = windows[{org, c.name}];
    const Throttle& t = *c.throttle;
    if (!w.loaded || w.per != t.per) {
      NURT_ASSIGN_OR_RETURN(auto times, options.store->ListNotificationsSent(org, c.name, now - t.per));
      w.sent.assign(times.begin(), times.end());
      w.loaded = true;
      w.per = t.per;
    }
    while (!w.sent.empty() && w.sent.front() <= now - t.per) w.sent.pop_front();
    return static_cast<int>(w.sent.size()) < t.limit;
  }

  void Process(const store::OutboxItem& item, const std::shared_ptr<const ChannelDirectory>& dir,
               DispatchReport* report) {
    const TimePoint now = options.clock->Now();
    if (auto u = unrecorded.find(item.id); u != unrecorded.end()) {
      Status st = options.store->CompleteOutbox(item.org_id, item.id, u->second.second["status"],
                                                u->second.second["result"]);
      if (st.ok() || st.IsFailedPrecondition() || st.IsNotFound()) unrecorded.erase(u);
      return;
    }
    if (auto r = retries.find(item.id); r != retries.end() && r->second.next_try > now) {
      ++report->held;
      return;
    }
    auto payload = ParsePayload(item.payload);
    if (!payload.ok()) {
      const std::string channel =
          item.payload.is_object() && item.payload.contains("channel") && item.payload["channel"].is_string()
              ? item.payload["channel"].get<std::string>()
              : "";
      Fail(item, channel, "bad-payload",
           "notification " + item.id + " cannot be sent: " + payload.status().message() +
               " (docs/notifications.md, \"The outbox contract\")",
           report);
      return;
    }
    const ChannelConfig* c = dir ? dir->Find(item.org_id, payload->channel) : nullptr;
    if (c == nullptr) {
      const std::vector<std::string> names = dir ? dir->Names(item.org_id) : std::vector<std::string>{};
      std::string msg = "channel " + Quote(payload->channel) + " is not configured for org " +
                        Quote(item.org_id);
      if (names.empty()) {
        msg += "; the org has no channels: add a kind: Channels file with org: " + item.org_id +
               " to the workflow folders";
      } else {
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
        const std::string hint = DidYouMean(payload->channel, names);
        msg += hint.empty() ? "; its channels are: " + list : hint;
      }
      Fail(item, payload->channel, "unknown-channel", msg, report);
      return;
    }
    if (c->throttle) {
      auto room = HasRoom(item.org_id, *c, now);
      if (!room.ok()) {  // the store is unavailable: try again on the next run
        ++report->held;
        return;
      }
      if (!*room) {
        if (c->throttle->policy == ThrottlePolicy::kDrop) {
          Complete(item, "failed",
                   Json{{"channel", c->name},
                        {"error", "throttled"},
                        {"dropped", true},
                        {"message", "channel " + Quote(c->name) + " already delivered " +
                                        std::to_string(c->throttle->limit) + " notification(s) in the last " +
                                        FormatIsoDuration(c->throttle->per) + " (throttle policy drop)"}});
          Add(item.org_id, c->name, &ChannelCounts::dropped);
          ++report->dropped;
          ++report->failed;
        } else {
          if (queued.insert(item.id).second) Add(item.org_id, c->name, &ChannelCounts::queued);
          ++report->held;
        }
        return;
      }
    }

    // Render with the channel's escaping; the producer never renders.
    const Escaping body_escaping = c->type == ChannelType::kEmail   ? Escaping::kText
                                   : c->type == ChannelType::kSlack ? Escaping::kSlack
                                                                    : Escaping::kWebhook;
    std::vector<std::string> warnings;
    auto body = RenderTemplate(payload->body, payload->vars, body_escaping);
    if (!body.ok()) {
      Fail(item, c->name, "template", "body " + body.status().message(), report);
      return;
    }
    warnings = body->warnings;
    Notification n;
    n.org = item.org_id;
    n.outbox_id = item.id;
    n.idempotency_key = item.idempotency_key;
    n.now = now;
    n.to = payload->to;
    n.text = body->text;
    if (payload->subject && c->type != ChannelType::kSlack) {
      auto subject = RenderTemplate(
          *payload->subject, payload->vars,
          c->type == ChannelType::kEmail ? Escaping::kEmailHeader : Escaping::kWebhook);
      if (!subject.ok()) {
        Fail(item, c->name, "template", "subject " + subject.status().message(), report);
        return;
      }
      n.subject = subject->text;
      for (auto& w : subject->warnings) warnings.push_back("subject: " + w);
    }
    if (c->type == ChannelType::kWebhook) {
      n.data = {{"channel", c->name}, {"org", item.org_id}, {"instanceId", item.instance_id}};
      if (payload->subject) n.data["subject"] = n.subject;
      n.data["message"] = n.text;
      n.data["vars"] = payload->vars;
      if (!payload->origin.is_null()) n.data["origin"] = payload->origin;
    }

    Retry& retry = retries[item.id];
    ++retry.attempts;
    auto sent = SenderFor(c->type)->Send(*c, n);
    if (sent.ok()) {
      Json result = {{"channel", c->name}, {"status", "sent"}};
      if (!sent->message_id.empty()) result["messageId"] = sent->message_id;
      if (sent->http_status != 0) result["httpStatus"] = sent->http_status;
      result["sentAt"] = FormatIso8601(now);
      result["warnings"] = warnings;
      result["attempts"] = retry.attempts;
      if (c->throttle) windows[{item.org_id, c->name}].sent.push_back(now);
      Complete(item, "done", result);
      Add(item.org_id, c->name, &ChannelCounts::sent);
      ++report->sent;
      return;
    }
    const Status& err = sent.status();
    if (IsRetryable(err)) {
      Add(item.org_id, c->name, &ChannelCounts::retried);
      if (retry.attempts >= options.max_attempts) {
        const int attempts = retry.attempts;
        Fail(item, c->name, "retries-exhausted",
             "gave up after " + std::to_string(attempts) + " attempts; the last error: " + err.message(),
             report, attempts);
        return;
      }
      auto backoff = options.initial_backoff;
      for (int i = 1; i < retry.attempts && backoff < options.max_backoff; ++i) backoff *= 2;
      retry.next_try = now + std::min(backoff, options.max_backoff);
      retry.last_error = err.message();
      ++report->retrying;
      return;
    }
    const int attempts = retry.attempts;
    Fail(item, c->name, err.IsFailedPrecondition() ? "rejected" : "config", err.message(), report, attempts);
  }
};

NotificationDispatcher::NotificationDispatcher(DispatcherOptions options) : impl_(std::make_unique<Impl>()) {
  NURT_ASSERT(options.store != nullptr && options.clock != nullptr,
              "NotificationDispatcher needs a store and a clock");
  impl_->channels = options.channels;
  if (!options.email) impl_->own_email = NewEmailSender(options.sender_options);
  if (!options.slack) impl_->own_slack = NewSlackSender(options.sender_options);
  if (!options.webhook) impl_->own_webhook = NewWebhookSender(options.sender_options);
  if (options.batch_size < 1) options.batch_size = 1;
  if (options.max_attempts < 1) options.max_attempts = 1;
  impl_->options = std::move(options);
}

NotificationDispatcher::~NotificationDispatcher() = default;

Result<DispatchReport> NotificationDispatcher::RunOnce() {
  std::lock_guard<std::mutex> run(impl_->run_mu);
  std::shared_ptr<const ChannelDirectory> dir;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    dir = impl_->channels;
  }
  // Items waiting (retry backoff, throttle queue) stay at the head of the oldest-first list, so read
  // past them: the batch is of items that can make progress.
  const int limit = impl_->options.batch_size + static_cast<int>(impl_->retries.size() + impl_->queued.size());
  NURT_ASSIGN_OR_RETURN(auto items, impl_->options.store->ListPendingOutbox({kNotifyOutboxKind}, limit));
  DispatchReport report;
  for (const auto& item : items) impl_->Process(item, dir, &report);
  return report;
}

std::vector<ChannelCounts> NotificationDispatcher::Counts() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<ChannelCounts> out;
  for (const auto& [key, c] : impl_->counts) out.push_back(c);
  return out;
}

void NotificationDispatcher::SetChannels(std::shared_ptr<const ChannelDirectory> channels) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->channels = std::move(channels);
}

}  // namespace nurt::notify
