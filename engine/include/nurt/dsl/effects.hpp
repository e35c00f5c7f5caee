#pragma once
// What the workflow loader knows about adapter calls (`call:` actions, docs/effects.md): the adapters
// a workflow may name with their input JSON Schemas, and retry policies.
//
// The catalog is data, not the adapters themselves (those live in nurt/effects/ and run in the
// dispatcher): the loader checks a workflow against it without depending on the code that executes the
// calls. BuiltinAdapters() lists the adapters every nurt ships (`http`); a program that registers more
// passes its own catalog in LoadOptions::adapters (effects::AdapterRegistry::Catalog()).

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"

namespace nurt::dsl {

// Adapter name -> the JSON Schema its `input` must satisfy.
using AdapterCatalog = std::map<std::string, Json>;

// The adapters of a plain nurt: "http" (any JSON REST call).
const AdapterCatalog& BuiltinAdapters();

// When and how often an effect is tried (docs/effects.md "Retry policies"). Try n (n >= 2) happens
// delays[min(n-2, delays.size()-1)] after try n-1 failed, stretched by a random factor in
// [1 - jitter, 1 + jitter]; after `tries` tries the effect goes to the dead-letter queue.
struct RetryPolicy {
  std::string name;                            // immediate | exponential | manual | custom
  int tries = 1;                               // 1 = no automatic retry
  std::vector<std::chrono::milliseconds> delays;
  double jitter = 0;                           // 0..1

  Json ToJson() const;                         // {"name","tries","delays":["PT5S",…],"jitter"}
};

// The named policies:
//   immediate    3 tries, 5 s apart
//   exponential  6 tries: the first, then retries after 5 s, 30 s, 5 min, 30 min and 2 h, jitter 0.2
//   manual       1 try (a failure goes straight to the dead-letter queue; an operator retries)
const std::vector<std::string>& RetryPolicyNames();

// A policy as written in YAML/JSON: a name, or {tries, delays: [ISO durations], jitter}, or the
// ToJson() form. InvalidArgument says what is wrong (with did-you-mean for names).
Result<RetryPolicy> ParseRetryPolicy(const Json& spec);

}  // namespace nurt::dsl
