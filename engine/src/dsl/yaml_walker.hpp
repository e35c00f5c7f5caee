#pragma once
// Reading yaml-cpp nodes the way the DSL defines them (private to the DSL loader).
//
// yaml-cpp keeps every scalar as text; this file decides what a scalar *is* using the YAML 1.2 core
// schema (what editors and the JSON Schema tooling use): quoted and block scalars are always text; a plain
// scalar is null (`null`, `Null`, `NULL`, `~`, empty), a boolean (`true`/`false` in those three casings —
// not `yes`/`on`, so an `on:` key stays a key), an integer (`12`, `-3`, `0x1f`, `0o17`), a float
// (`1.5`, `1e3`, `.inf` is text because JSON has no infinity) or else text. Explicit `!!str`, `!!int`,
// `!!float`, `!!bool`, `!!null` tags are honoured.
//
// It also turns yaml-cpp marks (0-based) into 1-based SourceLocations, and finds where a Lua snippet's
// text starts in the file (for `|` blocks: the line after the key).

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "nurt/core/json.hpp"
#include "nurt/dsl/diagnostic.hpp"

namespace nurt::dsl::internal {

enum class ScalarType { kNull, kBool, kInt, kFloat, kString };

// Type of a scalar or null node. REQUIRES: node.IsScalar() || node.IsNull().
ScalarType ResolveScalar(const YAML::Node& node);

// True for a scalar the DSL reads as text (see above).
bool IsText(const YAML::Node& node);

// The node as JSON: maps become objects (a repeated key keeps its last value, as YAML does), sequences
// arrays, scalars per ResolveScalar.
Json ToJson(const YAML::Node& node);

// "a map", "a list", "text", "a number", "a boolean (true/false)", "nothing (null)" — for wrong-type messages.
std::string Describe(const YAML::Node& node);

// The source text split into lines, for positions the marks alone cannot give.
class SourceText {
 public:
  SourceText(const std::string& text, std::string file);
  const std::string& file() const { return file_; }
  SourceLocation At(const YAML::Mark& mark) const;  // 1-based
  SourceLocation At(int line, int column) const { return SourceLocation{file_, line, column}; }
  // The character at a mark (0 when out of range).
  char CharAt(const YAML::Mark& mark) const;
  // 0-based line text ("" out of range).
  const std::string& Line(int line0) const;
  int line_count() const { return static_cast<int>(lines_.size()); }

 private:
  std::string file_;
  std::vector<std::string> lines_;
};

// Where the text of a string scalar begins: for plain scalars the mark itself, for quoted ones the
// character after the quote, for `|`/`>` blocks the first content line (the line after the indicator)
// at the block's indentation. `block` is set for `|`/`>` scalars.
SourceLocation TextStart(const SourceText& source, const YAML::Node& node, bool* block = nullptr);

}  // namespace nurt::dsl::internal
