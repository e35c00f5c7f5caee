#pragma once
// The JSON shapes the API answers with (schemas/openapi.yaml, components/schemas). Kept apart from the
// records' own ToJson so that the wire format is decided here, once, and a storage change cannot
// silently change it.

#include "nurt/core/json.hpp"
#include "nurt/engine/engine.hpp"
#include "nurt/store/records.hpp"

namespace nurt::api {

Json InstanceSummaryJson(const store::InstanceRecord& record);
Json InstanceJson(const engine::InstanceView& view);  // summary + context, output, acceptedEvents
Json TransitionJson(const store::TransitionRecord& transition);
Json TaskJson(const store::TaskRecord& task);
Json DefinitionSummaryJson(const store::DefinitionRecord& definition);

}  // namespace nurt::api
