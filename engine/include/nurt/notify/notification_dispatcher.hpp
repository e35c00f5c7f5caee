#pragma once
// nurt::notify::NotificationDispatcher — executes "nurt.notify" outbox items (docs/notifications.md).
//
// RunOnce() reads pending items of kind nurt.notify (oldest first, across orgs), and for each:
//   1. finds the channel in the item's org (unknown org/channel or a malformed payload: completed
//      "failed" with {"error": "unknown-channel"|"bad-payload", "message"});
//   2. applies the channel's throttle: at most `limit` deliveries per sliding `per`, counted from the
//      durable record (Store::ListNotificationsSent, loaded once per org+channel, then kept in memory),
//      so a restart does not reset it. policy queue: the item stays pending until the window has room;
//      policy drop: completed "failed" with {"error": "throttled", "dropped": true};
//   3. renders subject/body against "vars" with the channel's escaping (a template error: "failed" with
//      {"error": "template"});
//   4. sends it, then completes it "done" with {"channel", "status": "sent", "messageId" (email) or
//      "httpStatus", "sentAt", "warnings", "attempts"}. A permanent error completes it "failed" with
//      {"error": "rejected"|"config", "message", "attempts"}; a retryable one leaves it pending and
//      tries again after a backoff (initial_backoff doubling up to max_backoff), kept IN MEMORY, until
//      max_attempts ("failed" with {"error": "retries-exhausted"}). The full retry policy and dead-letter
//      queue are a later issue; after a restart the attempt count starts again.
// Exactly once per item as far as nurt can tell: an item is completed only after its send, and if that
// completion fails the result is kept and recorded on the next run instead of sending again. (A crash
// between the send and the completion resends; receivers dedupe by Message-ID / webhook-id.)
//
// Counts per org+channel (sent, queued, dropped, failed, retried) are cumulative for the process and
// are what the daemon exports as nurt_notifications_total.
//
// Thread-safety: RunOnce() from one thread at a time (it serialises itself); Counts() and
// SetChannels() from any thread. Collaborators must outlive the dispatcher.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nurt/core/result.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/notify/channels.hpp"
#include "nurt/notify/sender.hpp"
#include "nurt/store/store.hpp"

namespace nurt::notify {

struct DispatcherOptions {
  store::Store* store = nullptr;      // required
  const env::Clock* clock = nullptr;  // required
  std::shared_ptr<const ChannelDirectory> channels;  // null = no channels (every item fails)
  // Senders per channel type; null = the real one (NewEmailSender(sender_options), ...).
  Sender* email = nullptr;
  Sender* slack = nullptr;
  Sender* webhook = nullptr;
  SenderOptions sender_options;
  int batch_size = 100;  // pending items read per RunOnce
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(10)};
  int max_attempts = 20;  // then "failed" with retries-exhausted
};

// What one RunOnce did.
struct DispatchReport {
  int sent = 0;
  int failed = 0;    // completed "failed" (dropped ones included)
  int dropped = 0;   // throttled with policy drop
  int held = 0;      // left pending: throttled with policy queue, or waiting for a retry
  int retrying = 0;  // retryable failures in this run
};

// Cumulative per org+channel since the dispatcher was made.
struct ChannelCounts {
  std::string org, channel;
  std::int64_t sent = 0;
  std::int64_t queued = 0;   // items held back by the throttle (each counted once)
  std::int64_t dropped = 0;  // items dropped by the throttle
  std::int64_t failed = 0;   // items completed "failed" (dropped ones not included)
  std::int64_t retried = 0;  // retryable send failures
};

class NotificationDispatcher {
 public:
  explicit NotificationDispatcher(DispatcherOptions options);
  ~NotificationDispatcher();
  NotificationDispatcher(const NotificationDispatcher&) = delete;
  NotificationDispatcher& operator=(const NotificationDispatcher&) = delete;

  // One pass over the pending items. Errors: only the store's (Unavailable when it cannot list the
  // outbox); individual items never fail the pass.
  Result<DispatchReport> RunOnce();

  // Sorted by org, then channel.
  std::vector<ChannelCounts> Counts() const;

  // Replaces the channel configuration (e.g. after the folders changed); items in flight finish with
  // the old one.
  void SetChannels(std::shared_ptr<const ChannelDirectory> channels);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nurt::notify
