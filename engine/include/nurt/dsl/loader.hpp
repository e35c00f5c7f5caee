#pragma once
// Loading and validating workflow YAML (`nurt validate`).
//
// The loader never stops at the first problem: it returns every diagnostic it can find, each with the
// file:line:col a designer must look at (yaml-cpp marks). A Definition is produced only when there are no
// errors (warnings are allowed).

#include <memory>
#include <string>
#include <vector>

#include "nurt/dsl/definition.hpp"
#include "nurt/dsl/diagnostic.hpp"
#include "nurt/dsl/effects.hpp"

namespace nurt::dsl {

struct LoadOptions {
  // Folder that `script:` paths are resolved against. Default: the `actions/` folder next to the
  // workflow's folder (i.e. <dir of file>/../actions), falling back to <dir of file>/actions, then to the
  // `actions/` folder next to a further ancestor (<dir>/../../actions, …: workflows/<area>/x.yaml uses
  // the repository's actions/).
  std::string actions_dir;
  // When non-null, `script:` paths are looked up here (path -> content) instead of on disk. The engine
  // uses it to rebuild a stored definition version from the store alone, with the scripts it was
  // published with (Definition::scripts), whatever the files on disk say today.
  const std::vector<std::pair<std::string, std::string>>* scripts = nullptr;
  // The adapters `call:` actions may name, with their input schemas (nurt/dsl/effects.hpp). Null = the
  // built-in ones (BuiltinAdapters()).
  const AdapterCatalog* adapters = nullptr;
};

struct LoadResult {
  std::shared_ptr<const Definition> definition;  // null when diagnostics contain an error
  // Errors and warnings, sorted by line then column: first those in the workflow file, then those in
  // `script:` files (lua-syntax, unhandled-event), by file name.
  std::vector<Diagnostic> diagnostics;
};

// Reads and validates one file. File-system errors become a diagnostic at file:0:0.
LoadResult LoadMachineFile(const std::string& path, const LoadOptions& options = {});

// Same, from text already in memory (the API's "upload a definition"); `file_name` is used in locations.
LoadResult LoadMachineText(const std::string& text, const std::string& file_name,
                           const LoadOptions& options = {});

}  // namespace nurt::dsl
