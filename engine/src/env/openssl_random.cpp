#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include "nurt/env/random.hpp"

namespace nurt::env {

std::string Random::Hex(std::size_t bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::vector<std::uint8_t> raw(bytes);
  Fill(raw.data(), raw.size());
  std::string out;
  out.reserve(bytes * 2);
  for (std::uint8_t b : raw) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

namespace {

class OpenSslRandom final : public Random {
 public:
  void Fill(std::uint8_t* out, std::size_t size) override {
    while (size > 0) {
      const int chunk = static_cast<int>(std::min<std::size_t>(size, std::numeric_limits<int>::max()));
      // A secret from a failed CSPRNG would be guessable; stopping is the only safe answer.
      if (RAND_bytes(out, chunk) != 1) {
        std::fprintf(stderr, "nurt: the system random source failed (OpenSSL RAND_bytes)\n");
        std::abort();
      }
      out += chunk;
      size -= static_cast<std::size_t>(chunk);
    }
  }
};

}  // namespace

Random* SystemRandom() {
  static OpenSslRandom random;
  return &random;
}

}  // namespace nurt::env
