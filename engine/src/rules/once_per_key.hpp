#pragma once
// Rendering `once_per:` templates (private to nurt_rules; docs/rules.md "once_per").
//
// {{path}} is looked up in `vars` by dots ({{event.payload.invoice_id}}); text is inserted as is,
// other JSON values as compact JSON, and a missing path as "" (so a key may collapse: the docs warn).

#include <string>

#include "nurt/core/json.hpp"
#include "nurt/core/time.hpp"

namespace date {
class time_zone;
}

namespace nurt::rules::internal {

std::string RenderKey(const std::string& tmpl, const Json& vars);

// The calendar day of `t` in `zone`, "YYYY-MM-DD".
std::string LocalDay(TimePoint t, const date::time_zone* zone);

}  // namespace nurt::rules::internal
