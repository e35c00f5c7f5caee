#pragma once
// DocumentReader — what every nurt YAML document loader does the same way (private to the DSL module and
// the loaders built on it: machines, rules, schedules, notification channels).
//
// It owns the source text (for file:line:col), the diagnostics, and the checks every document shares:
// keys must be plain text, a key written twice in one map is an error (YAML would silently keep the last),
// unknown keys get a did-you-mean, values of the wrong type say what was expected and what was found.

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "dsl/model.hpp"
#include "dsl/yaml_walker.hpp"
#include "nurt/dsl/diagnostic.hpp"

namespace nurt::dsl::internal {

// One key of a map with its value and where the key is written.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
  SourceLocation key_at;
};

class DocumentReader {
 public:
  DocumentReader(const std::string& text, const std::string& file) : source_(text, file) {}

 protected:
  SourceLocation At(const YAML::Node& node) const { return source_.At(node.Mark()); }
  // Where a value is: the value itself, or its key when the value is empty (yaml-cpp marks an empty
  // value at the next token).
  SourceLocation ValueAt(const Entry& e) const { return e.value.IsNull() ? e.key_at : At(e.value); }

  // The map's entries in written order; a key that is not plain text is reported and skipped.
  std::vector<Entry> Entries(const YAML::Node& map);
  // duplicate-key, for every map below `node` (each aliased map once).
  void CheckDuplicateKeys(const YAML::Node& node);
  void UnknownKey(const Entry& e, const std::string& where, const std::vector<std::string>& allowed);
  void WrongType(const SourceLocation& at, const std::string& what, const std::string& expected,
                 const YAML::Node& found);
  // The value as text (wrong-type otherwise).
  bool ReadText(const Entry& e, const std::string& what, std::string* out);
  // The value as true/false (wrong-type otherwise).
  bool ReadBool(const Entry& e, const std::string& what, bool* out);

  // A task's `assignee` ({role} or {user}) and `form` (fields), into `task` (docs/dsl.md "Human tasks").
  void ParseTaskAssignee(const Entry& e, const std::string& where, TaskSpec* task);
  void ParseTaskForm(const Entry& e, const std::string& where, TaskSpec* task);
  // One `decisions:` entry (decision -> event) appended to `task`; false (reported) when it is unusable.
  bool ReadTaskDecision(const Entry& d, const std::string& what, TaskSpec* task);

  // The text as ONE YAML document. A syntax error (nullopt) or a second document is reported as
  // yaml-syntax; `one_document` ends the second-document message ("a rules file holds one document").
  std::optional<YAML::Node> ParseSingleDocument(const std::string& text, const std::string& one_document);
  // The duplicate-key check, then `parse(root)`; yaml-cpp's own errors while reading become yaml-syntax.
  void ReadDocument(const YAML::Node& root, const std::function<void(const YAML::Node&)>& parse);
  // The diagnostics, sorted by line then column (stable), moved out.
  std::vector<Diagnostic> TakeSortedDiagnostics();

  SourceText source_;
  Diagnostics diag_;

 private:
  std::set<std::pair<int, int>> checked_maps_;
};

}  // namespace nurt::dsl::internal
