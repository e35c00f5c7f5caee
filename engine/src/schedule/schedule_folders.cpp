#include "nurt/schedule/schedule_folders.hpp"

#include <map>

namespace nurt::schedule {

Result<FolderSchedules> LoadScheduleFolders(const std::vector<std::string>& folders, env::FileSystem* fs) {
  FolderSchedules out;
  std::map<std::string, std::string> seen;  // name -> file
  for (const auto& dir : folders) {
    if (!fs->IsDirectory(dir)) continue;
    auto files = fs->ListFiles(dir, {".yaml", ".yml"});
    if (!files.ok()) return files.status().WithContext("listing schedules in " + dir);
    for (const auto& file : *files) {
      auto text = fs->ReadFile(file);
      if (!text.ok()) return text.status().WithContext("reading " + file);
      if (!dsl::IsScheduleDocument(*text)) continue;
      dsl::ScheduleLoadResult r = dsl::LoadScheduleText(*text, file);
      if (!r.schedule) {
        out.invalid.push_back(file);
        for (const auto& d : r.diagnostics) {
          if (d.severity == dsl::Severity::kError) out.errors.push_back(d);
        }
        continue;
      }
      auto [it, inserted] = seen.emplace(r.schedule->name, file);
      if (!inserted) {
        out.invalid.push_back(file);
        out.errors.push_back(dsl::Diagnostic{r.schedule->location, dsl::Severity::kError, "duplicate-schedule",
                                             "schedule '" + r.schedule->name + "' is also defined in " + it->second +
                                                 "; schedule names are unique per organisation, rename one"});
        continue;
      }
      out.schedules.push_back(std::move(r.schedule));
    }
  }
  return out;
}

}  // namespace nurt::schedule
