#include "nurt/engine/workflow_folders.hpp"

#include <regex>

#include "nurt/dsl/loader.hpp"

namespace nurt::engine {

Result<FolderPublishReport> PublishFolders(Engine* engine, const std::string& org,
                                           const std::vector<std::string>& folders, env::FileSystem* fs) {
  static const std::regex kMachineKind(R"((^|\n)kind:\s*Machine\s*(#.*)?(\r?\n|$))");
  FolderPublishReport report;
  for (const auto& dir : folders) {
    if (!fs->IsDirectory(dir)) continue;
    auto files = fs->ListFiles(dir, {".yaml", ".yml"});
    if (!files.ok()) return files.status().WithContext("listing workflows in " + dir);
    for (const auto& file : *files) {
      auto text = fs->ReadFile(file);
      if (!text.ok()) return text.status().WithContext("reading " + file);
      if (dsl::IsRulesDocument(*text)) {
        const dsl::RulesLoadResult r = dsl::LoadRulesText(*text, file);
        if (r.rules) {
          report.rule_sets.push_back(r.rules);
        } else {
          report.invalid.push_back(file);
          for (const auto& d : r.diagnostics) {
            if (d.severity == dsl::Severity::kError) report.errors.push_back(d);
          }
        }
        continue;
      }
      if (!std::regex_search(*text, kMachineKind)) continue;
      const dsl::LoadResult r = dsl::LoadMachineText(*text, file);
      if (!r.definition) {
        report.invalid.push_back(file);
        for (const auto& d : r.diagnostics) {
          if (d.severity == dsl::Severity::kError) report.errors.push_back(d);
        }
        continue;
      }
      Status st = engine->Publish(org, *r.definition);
      if (!st.ok()) {
        report.refused.push_back({file, r.definition->name, st});
        continue;
      }
      report.published.push_back(r.definition->name + " v" + std::to_string(r.definition->version) + " (" +
                                 file + ")");
    }
  }
  return report;
}

}  // namespace nurt::engine
