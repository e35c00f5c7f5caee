#pragma once
// nurt::env::Random — cryptographically strong random bytes (API key secrets, trace ids, link nonces).
//
// Separate from IdGenerator: ids only need to be unique and sortable, secrets must be unguessable.
// Tests inject a seeded, repeatable source (engine/testing/seeded_random.hpp).
// Thread-safety: implementations must be safe to call from any thread.

#include <cstddef>
#include <cstdint>
#include <string>

namespace nurt::env {

class Random {
 public:
  virtual ~Random() = default;
  // Fills `out[0..size)` with random bytes. Aborts (never returns weak bytes) if the system source fails.
  virtual void Fill(std::uint8_t* out, std::size_t size) = 0;

  // `bytes` random bytes as lowercase hex (2 * bytes characters).
  std::string Hex(std::size_t bytes);
};

// OpenSSL's RAND_bytes (the operating system's CSPRNG). Never null; lives for the whole process.
Random* SystemRandom();

}  // namespace nurt::env
