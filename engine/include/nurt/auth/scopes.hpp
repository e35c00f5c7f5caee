#pragma once
// nurt::auth scopes and roles — what an API key may do.
//
// A scope is one exact string from the catalogue below; the API maps each route to the one scope it
// requires. Some scopes imply others (definitions:write implies read:definitions, ...): ScopeAllows
// applies the closure, so a key granted only "write:events" may also read instances. A role is a
// named bundle of scopes (and, in the API, decides which human tasks the key sees); a key's
// effective scopes are the union of its explicit scopes and its role's.
//
// Thread-safety: everything here is pure or reads immutable tables; call from any thread.
// Errors: InvalidArgument naming the unknown scope or role, with a suggestion or the full list.

#include <string>
#include <string_view>
#include <vector>

#include "nurt/core/result.hpp"

namespace nurt::auth {

// The scope catalogue (exact strings).
inline constexpr std::string_view kReadDefinitions = "read:definitions";
inline constexpr std::string_view kWriteDefinitions =
    "definitions:write";  // implies read:definitions
inline constexpr std::string_view kReadInstances = "read:instances";
inline constexpr std::string_view kWriteInstances =
    "write:instances";                                            // start; implies read:instances
inline constexpr std::string_view kWriteEvents = "write:events";  // implies read:instances
inline constexpr std::string_view kReadTasks = "read:tasks";
inline constexpr std::string_view kCompleteTasks =
    "tasks:complete";  // claim+complete; implies read:tasks
// force/skip/retry/cancel/suspend/resume; implies read:instances
inline constexpr std::string_view kAdminOverride = "admin:override";
inline constexpr std::string_view kManageKeys =
    "keys:manage";  // its own org's keys; implies read:audit
inline constexpr std::string_view kReadAudit = "read:audit";
inline constexpr std::string_view kManageWebhooks = "webhooks:manage";
inline constexpr std::string_view kReadSchedules = "read:schedules";  // schedules and their runs
// Adapter effects: the retry queue and DLQ with retry/skip/delete, the integration log and dashboard.
inline constexpr std::string_view kManageEffects = "effects:manage";

// Every scope, in catalogue order.
const std::vector<std::string>& AllScopes();

// Checks every scope against the catalogue and returns them sorted without duplicates.
// InvalidArgument on the first unknown one: "unknown scope 'read:instance'; did you mean
// 'read:instances'? Known scopes: ...".
Result<std::vector<std::string>> ParseScopes(const std::vector<std::string>& scopes);

// True when `required` is in `granted` or implied by one of them.
bool ScopeAllows(const std::vector<std::string>& granted, std::string_view required);

// The roles: architect, installer, coordinator, finance, admin.
const std::vector<std::string>& Roles();

// The scopes a role grants (admin: every scope). InvalidArgument listing the roles when unknown.
Result<std::vector<std::string>> RoleScopes(std::string_view role);

// Sorted union of `explicit_scopes` and the role's scopes ("" = no role). InvalidArgument as
// ParseScopes / RoleScopes.
Result<std::vector<std::string>> EffectiveScopes(const std::vector<std::string>& explicit_scopes,
                                                 std::string_view role);

}  // namespace nurt::auth
