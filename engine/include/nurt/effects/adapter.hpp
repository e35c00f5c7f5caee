#pragma once
// nurt::effects::Adapter — everything that talks to the outside world (docs/effects.md).
//
// An adapter executes one effect (an outbox item of kind = the adapter's name) and says how it went.
// It never touches the store or the engine: the dispatcher (effect_dispatcher.hpp) claims the effect,
// checks the input against InputSchema(), asks the circuit breaker of Endpoint(), calls Execute, logs
// the attempt, and turns the answer into the event <step>.done / <step>.failed.
//
// Thread-safety: Execute and Health may be called from several dispatcher threads at once.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
#include "nurt/dsl/effects.hpp"

namespace nurt::effects {

// One try of one effect.
struct EffectCall {
  std::string org_id;
  std::string effect_id;        // the outbox item id
  std::string instance_id;
  std::string machine;
  std::string step;             // from the `call:` action
  std::string idempotency_key;  // stable across tries and restarts: pass it on (e.g. Idempotency-Key)
  Json input;                   // already checked against InputSchema()
  int attempt = 1;              // 1 = first try
};

// How one try went. Errors are typed: `code` is a stable word, `retryable` says whether trying again
// later may help (timeouts, refused connections, 5xx, 408, 429) or not (4xx, bad input, bad config).
struct CallResult {
  bool ok = false;
  Json output;                  // ok: what <step>.done carries (http: {"status","headers","body"})
  std::string code;             // !ok: timeout | connection | http-4xx | http-5xx | redirect | config | …
  std::string message;          // !ok: for the person who must act
  bool retryable = false;
  int http_status = 0;          // 0 = no HTTP answer
  std::int64_t duration_ms = 0; // time on the wire, as measured by the transport
  std::string request_body;     // what was sent (unmasked: the dispatcher masks it for the log)
  std::string response_body;    // what came back (the first bytes; unmasked)
};

class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual std::string Name() const = 0;
  // JSON Schema of the adapter's configuration (daemon config section) and of a call's input.
  virtual Json ConfigSchema() const = 0;
  virtual Json InputSchema() const = 0;
  // The circuit breaker's key for a call: the remote endpoint it talks to (http: scheme://host:port).
  virtual std::string Endpoint(const EffectCall& call) const = 0;
  // How many calls may run at once (the dispatcher's per-adapter concurrency limit).
  virtual int Concurrency() const { return 4; }
  virtual CallResult Execute(const EffectCall& call) = 0;
  // OK when the adapter can work (configuration loaded, credentials present). Not a remote probe: the
  // circuit breakers say whether endpoints answer.
  virtual Status Health() const { return Status::Ok(); }
};

// The adapters of a process, filled at start. Not thread-safe to modify; read-only after start.
class AdapterRegistry {
 public:
  // AlreadyExists when an adapter of that name is registered.
  Status Register(std::shared_ptr<Adapter> adapter);
  Adapter* Find(const std::string& name) const;  // null when unknown
  std::vector<std::string> Names() const;        // sorted
  // Name -> input schema, for the workflow loader (dsl::LoadOptions::adapters).
  dsl::AdapterCatalog Catalog() const;

 private:
  std::map<std::string, std::shared_ptr<Adapter>> adapters_;
};

// Passwords, tokens, secrets, API keys and authorization values in a body replaced by "***", for the
// integration log. JSON bodies are walked (any key containing password, passwd, secret, token,
// apikey/api_key/api-key, authorization, credential — case-insensitive); other text gets the same
// treatment for `key=value` and `"key": "value"` pairs.
std::string MaskSecrets(const std::string& body);

}  // namespace nurt::effects
