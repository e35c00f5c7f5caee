#include "nurt/core/suggest.hpp"

#include <algorithm>
#include <cctype>

namespace nurt {

int EditDistance(const std::string& a, const std::string& b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1, 0));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

namespace {

std::string Lower(const std::string& s) {
  std::string out = s;
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

int Threshold(const std::string& word) {
  if (word.size() <= 4) return 1;
  if (word.size() <= 8) return 2;
  return 3;
}

}  // namespace

std::optional<std::string> Suggest(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string lower = Lower(word);
  std::optional<std::string> best;
  int best_distance = Threshold(word) + 1;
  for (const auto& candidate : candidates) {
    if (candidate == word) continue;
    const std::string lower_candidate = Lower(candidate);
    // Case-only differences count as the closest possible match.
    const int distance = lower_candidate == lower ? 0 : EditDistance(lower, lower_candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates) {
  auto s = Suggest(word, candidates);
  return s ? "; did you mean '" + *s + "'?" : "";
}

}  // namespace nurt
