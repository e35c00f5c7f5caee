#pragma once
// Diagrams of a machine (`nurt graph`): nested states as nested boxes, parallel regions side by side.

#include <string>

#include "nurt/dsl/definition.hpp"

namespace nurt::dsl {

enum class GraphFormat { kMermaid, kDot };

// Mermaid `stateDiagram-v2` text, or Graphviz dot with clusters for compound/parallel states.
std::string RenderGraph(const Definition& definition, GraphFormat format);

}  // namespace nurt::dsl
