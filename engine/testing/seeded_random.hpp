#pragma once
// A repeatable env::Random for tests: the same seed gives the same bytes. Never for production secrets.

#include <mutex>
#include <random>

#include "nurt/env/random.hpp"

namespace nurt::testing {

class SeededRandom final : public env::Random {
 public:
  explicit SeededRandom(std::uint64_t seed = 42) : rng_(seed) {}
  void Fill(std::uint8_t* out, std::size_t size) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(rng_() & 0xFF);
  }

 private:
  std::mutex mu_;
  std::mt19937_64 rng_;
};

}  // namespace nurt::testing
