#include "nurt/auth/scopes.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "nurt/core/suggest.hpp"

namespace nurt::auth {
namespace {

// Scope -> the scopes it implies directly. One level is enough today; ScopeAllows still walks the
// closure so a deeper chain added later needs no code change.
const std::map<std::string_view, std::vector<std::string_view>>& Implications() {
  static const auto* kImplies = new std::map<std::string_view, std::vector<std::string_view>>{
      {kWriteDefinitions, {kReadDefinitions}}, {kWriteInstances, {kReadInstances}},
      {kWriteEvents, {kReadInstances}},        {kCompleteTasks, {kReadTasks}},
      {kAdminOverride, {kReadInstances}},      {kManageKeys, {kReadAudit}},
  };
  return *kImplies;
}

const std::map<std::string_view, std::vector<std::string_view>>& RoleTable() {
  static const auto* kRoles = new std::map<std::string_view, std::vector<std::string_view>>{
      {"architect", {kReadDefinitions, kWriteDefinitions, kWriteInstances, kWriteEvents, kReadSchedules}},
      {"installer", {kReadInstances, kReadTasks, kCompleteTasks, kWriteEvents}},
      {"coordinator",
       {kReadDefinitions, kWriteInstances, kWriteEvents, kCompleteTasks, kReadAudit, kReadSchedules}},
      {"finance", {kReadInstances, kReadTasks, kCompleteTasks, kWriteEvents}},
  };
  return *kRoles;
}

std::string JoinQuoted(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The closest known scope when it is a plausible typo. Scopes are "noun:verb" or "verb:noun" in the
// catalogue; a user writing the other order ("write:definitions") gets the real one too.
std::optional<std::string> SuggestScope(std::string_view word) {
  const std::string text(word);
  if (auto best = Suggest(text, AllScopes())) return best;
  const auto colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  const std::string swapped = text.substr(colon + 1) + ":" + text.substr(0, colon);
  const auto& all = AllScopes();
  if (std::find(all.begin(), all.end(), swapped) != all.end()) return swapped;
  return Suggest(swapped, all);
}

}  // namespace

const std::vector<std::string>& AllScopes() {
  static const auto* kAll = new std::vector<std::string>{
      std::string(kReadDefinitions), std::string(kWriteDefinitions), std::string(kReadInstances),
      std::string(kWriteInstances),  std::string(kWriteEvents),      std::string(kReadTasks),
      std::string(kCompleteTasks),   std::string(kAdminOverride),    std::string(kManageKeys),
      std::string(kReadAudit),       std::string(kManageWebhooks),  std::string(kReadSchedules),
      std::string(kManageEffects)};
  return *kAll;
}

Result<std::vector<std::string>> ParseScopes(const std::vector<std::string>& scopes) {
  std::set<std::string> out;
  for (const std::string& s : scopes) {
    if (std::find(AllScopes().begin(), AllScopes().end(), s) == AllScopes().end()) {
      std::string msg = "unknown scope '" + s + "'";
      if (auto suggestion = SuggestScope(s)) msg += "; did you mean '" + *suggestion + "'?";
      return Status::InvalidArgument(msg + " Known scopes: " + JoinQuoted(AllScopes()));
    }
    out.insert(s);
  }
  return std::vector<std::string>(out.begin(), out.end());
}

bool ScopeAllows(const std::vector<std::string>& granted, std::string_view required) {
  std::vector<std::string_view> pending(granted.begin(), granted.end());
  std::set<std::string_view> seen;
  while (!pending.empty()) {
    const std::string_view s = pending.back();
    pending.pop_back();
    if (s == required) return true;
    if (!seen.insert(s).second) continue;
    auto it = Implications().find(s);
    if (it != Implications().end())
      pending.insert(pending.end(), it->second.begin(), it->second.end());
  }
  return false;
}

const std::vector<std::string>& Roles() {
  static const auto* kRoles =
      new std::vector<std::string>{"architect", "installer", "coordinator", "finance", "admin"};
  return *kRoles;
}

Result<std::vector<std::string>> RoleScopes(std::string_view role) {
  if (role == "admin") return AllScopes();
  auto it = RoleTable().find(role);
  if (it == RoleTable().end()) {
    return Status::InvalidArgument("unknown role '" + std::string(role) +
                                   "'; roles are: " + JoinQuoted(Roles()));
  }
  return std::vector<std::string>(it->second.begin(), it->second.end());
}

Result<std::vector<std::string>> EffectiveScopes(const std::vector<std::string>& explicit_scopes,
                                                 std::string_view role) {
  std::vector<std::string> all = explicit_scopes;
  if (!role.empty()) {
    NURT_ASSIGN_OR_RETURN(std::vector<std::string> from_role, RoleScopes(role));
    all.insert(all.end(), from_role.begin(), from_role.end());
  }
  return ParseScopes(all);
}

}  // namespace nurt::auth
