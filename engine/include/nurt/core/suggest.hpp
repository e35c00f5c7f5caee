#pragma once
// "Did you mean …?" for misspelt names everywhere a person types one: workflow keys, state ids and
// event names, daemon configuration keys, API scopes and request fields.

#include <optional>
#include <string>
#include <vector>

namespace nurt {

// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two adjacent
// characters each cost 1 ("taregt" -> "target" is 1).
int EditDistance(const std::string& a, const std::string& b);

// The candidate closest to `word`, if it is close enough to be a plausible typo: a case-insensitive
// match, or an edit distance of at most 1 (words up to 4 characters), 2 (up to 8) or 3 (longer). Ties
// go to the candidate listed first. Never returns `word` itself.
std::optional<std::string> Suggest(const std::string& word, const std::vector<std::string>& candidates);

// "; did you mean 'X'?" when Suggest finds something, "" otherwise (ready to append to a message).
std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace nurt
