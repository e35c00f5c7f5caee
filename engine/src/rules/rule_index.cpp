#include "rules/rule_index.hpp"

#include <date/tz.h>

#include <algorithm>

namespace nurt::rules::internal {

RuleIndex::RuleIndex(std::vector<std::shared_ptr<const dsl::RuleSet>> sets) : sets_(std::move(sets)) {
  for (const auto& set : sets_) {
    // The loader checked the zone; an unknown one here (a set built in code) falls back to UTC.
    const date::time_zone* zone = nullptr;
    try {
      zone = date::locate_zone(set->time_zone);
    } catch (const std::exception&) {
      zone = date::locate_zone("UTC");
    }
    has_throttles_ = has_throttles_ || set->throttle.has_value();
    for (const auto& rule : set->rules) {
      rules_.push_back(CompiledRule{&rule, set.get(), zone, rules_.size()});
      has_throttles_ = has_throttles_ || rule.throttle.has_value();
    }
  }
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    for (const auto& pattern : rules_[i].spec->on) {
      if (pattern.find('*') == std::string::npos) {
        auto& list = exact_[pattern];
        if (list.empty() || list.back() != i) list.push_back(i);
      } else {
        globs_.emplace_back(pattern, i);
      }
    }
  }
}

const std::vector<const CompiledRule*>& RuleIndex::Match(const std::string& type) {
  auto it = memo_.find(type);
  if (it != memo_.end()) return it->second;
  if (memo_.size() >= kMaxMemo) memo_.clear();
  std::vector<std::size_t> hits;
  if (auto e = exact_.find(type); e != exact_.end()) hits = e->second;
  for (const auto& [pattern, i] : globs_) {
    if (dsl::RuleEventMatches(pattern, type)) hits.push_back(i);
  }
  std::sort(hits.begin(), hits.end());
  hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
  std::vector<const CompiledRule*> out;
  out.reserve(hits.size());
  for (std::size_t i : hits) out.push_back(&rules_[i]);
  return memo_.emplace(type, std::move(out)).first->second;
}

const CompiledRule* RuleIndex::Find(const std::string& rule_id) const {
  for (const auto& r : rules_) {
    if (r.spec->id == rule_id) return &r;
  }
  return nullptr;
}

}  // namespace nurt::rules::internal
