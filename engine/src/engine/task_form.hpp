#pragma once
// Checking what a person submits to complete a human task against the task's form and checklist
// (private to the engine). Pure.

#include <string>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/core/status.hpp"
#include "nurt/store/records.hpp"

namespace nurt::engine {

// OK, or InvalidArgument listing every problem, one per line, each starting with a JSON pointer into
// the completion request body ("/data/amount: expected a number, got \"12zł\""): a required field
// missing (or null), a value of the wrong type (string, number, integer, boolean, date YYYY-MM-DD,
// enum: one of its options), a field the form does not have, a checklist item the task does not list.
Status CheckTaskCompletion(const store::TaskRecord& task, const Json& data,
                           const std::vector<std::string>& checklist_done);

}  // namespace nurt::engine
