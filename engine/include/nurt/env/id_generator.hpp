#pragma once
// nurt::env::IdGenerator — every id nurt invents (instances, events, outbox items) comes from here.
//
// Ids are 26-character ULIDs (Crockford base32: 48 bits of milliseconds, then 80 random bits), so ids
// created later sort later and inserts land at the right edge of B-tree indexes instead of all over them.
// Thread-safety: implementations must be safe to call from any thread.

#include <cstdint>
#include <memory>
#include <string>

#include "nurt/env/clock.hpp"

namespace nurt::env {

class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  virtual std::string NewId() = 0;
};

// ULIDs from `clock` and a random source. With `seed` set, the random part is a deterministic sequence
// (tests); without it, it is seeded from the operating system's entropy.
// REQUIRES: clock outlives the generator.
std::unique_ptr<IdGenerator> NewUlidGenerator(const Clock* clock);
std::unique_ptr<IdGenerator> NewSeededUlidGenerator(const Clock* clock, std::uint64_t seed);

}  // namespace nurt::env
