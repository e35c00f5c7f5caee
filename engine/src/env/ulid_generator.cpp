#include <mutex>
#include <random>

#include "nurt/env/id_generator.hpp"

namespace nurt::env {
namespace {

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

class UlidGenerator final : public IdGenerator {
 public:
  UlidGenerator(const Clock* clock, std::uint64_t seed) : clock_(clock), rng_(seed) {}

  std::string NewId() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::uint64_t ms = static_cast<std::uint64_t>(ToUnixMillis(clock_->Now()));
    // Monotonic within one millisecond (ULID spec): bump the random part instead of drawing anew, so ids
    // made in the same millisecond still sort in creation order.
    if (ms <= last_ms_) {
      ms = last_ms_;
      if (++rand_lo_ == 0) ++rand_hi_;
    } else {
      last_ms_ = ms;
      rand_hi_ = rng_() & 0xFFFF;  // 16 bits
      rand_lo_ = rng_();           // 64 bits
    }
    std::string out(26, '0');
    // 48-bit time -> 10 chars; 80-bit random -> 16 chars.
    for (int i = 9; i >= 0; --i) {
      out[static_cast<std::size_t>(i)] = kCrockford[ms & 31];
      ms >>= 5;
    }
    std::uint64_t hi = rand_hi_, lo = rand_lo_;
    for (int i = 25; i >= 10; --i) {
      out[static_cast<std::size_t>(i)] = kCrockford[lo & 31];
      lo = (lo >> 5) | ((hi & 31) << 59);
      hi >>= 5;
    }
    return out;
  }

 private:
  const Clock* clock_;
  std::mutex mu_;
  std::mt19937_64 rng_;
  std::uint64_t last_ms_ = 0;
  std::uint64_t rand_hi_ = 0, rand_lo_ = 0;
};

}  // namespace

std::unique_ptr<IdGenerator> NewUlidGenerator(const Clock* clock) {
  std::random_device rd;
  const std::uint64_t seed = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return std::make_unique<UlidGenerator>(clock, seed);
}

std::unique_ptr<IdGenerator> NewSeededUlidGenerator(const Clock* clock, std::uint64_t seed) {
  return std::make_unique<UlidGenerator>(clock, seed);
}

}  // namespace nurt::env
