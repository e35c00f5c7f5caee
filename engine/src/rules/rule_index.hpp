#pragma once
// RuleIndex — the rules of one org, compiled for matching event types (private to nurt_rules).
//
// Exact `on:` types go into a hash map; glob patterns are tried one by one; the answer for each event
// type is remembered, so after the first event of a type matching costs one hash lookup however many
// rules are loaded. Rules come back in load order (sets in the order given, rules in written order).
//
// Thread-safety: Match mutates the memo; callers serialise (RulesEngine holds its pass lock).

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "nurt/dsl/rules.hpp"

namespace date {
class time_zone;
}

namespace nurt::rules::internal {

struct CompiledRule {
  const dsl::RuleSpec* spec = nullptr;
  const dsl::RuleSet* set = nullptr;
  const date::time_zone* zone = nullptr;  // the set's timeZone, for {{day}}
  std::size_t order = 0;                  // load order in the org
};

class RuleIndex {
 public:
  // REQUIRES: the sets outlive the index (it keeps pointers into them); rule ids unique.
  explicit RuleIndex(std::vector<std::shared_ptr<const dsl::RuleSet>> sets);

  const std::vector<const CompiledRule*>& Match(const std::string& type);
  const std::vector<CompiledRule>& rules() const { return rules_; }
  const std::vector<std::shared_ptr<const dsl::RuleSet>>& sets() const { return sets_; }
  const CompiledRule* Find(const std::string& rule_id) const;
  bool has_throttles() const { return has_throttles_; }

 private:
  static constexpr std::size_t kMaxMemo = 4096;  // distinct types remembered before starting over

  std::vector<std::shared_ptr<const dsl::RuleSet>> sets_;
  std::vector<CompiledRule> rules_;
  std::unordered_map<std::string, std::vector<std::size_t>> exact_;  // type -> rule indices
  std::vector<std::pair<std::string, std::size_t>> globs_;          // (pattern, rule index)
  std::unordered_map<std::string, std::vector<const CompiledRule*>> memo_;
  bool has_throttles_ = false;
};

}  // namespace nurt::rules::internal
