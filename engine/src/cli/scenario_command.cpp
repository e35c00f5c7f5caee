#include "cli/scenario_command.hpp"

#include <algorithm>
#include <chrono>

#include "nurt/core/json.hpp"
#include "nurt/env/clock.hpp"
#include "nurt/env/file_system.hpp"
#include "nurt/scenario/scenario.hpp"

namespace nurt::cli {
namespace {

// The scenario files named or found (recursively) under the given paths, sorted, without duplicates.
std::vector<std::string> ScenarioFiles(const std::vector<std::string>& paths, std::vector<std::string>* missing) {
  env::FileSystem* fs = env::LocalFileSystem();
  std::vector<std::string> files;
  for (const auto& p : paths) {
    if (fs->IsDirectory(p)) {
      auto listed = fs->ListFiles(p, {".yaml", ".yml"});
      if (!listed.ok()) continue;
      for (const auto& f : *listed) {
        if (scenario::IsScenarioFile(f)) files.push_back(f);
      }
    } else if (fs->ReadFile(p).ok()) {
      files.push_back(p);
    } else {
      missing->push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

}  // namespace

const char* ScenarioUsage() {
  return "  test PATH...                          run scenario tests (kind: Scenario files, or folders of them)\n"
         "                                        in virtual time; failures as file:line with the history\n"
         "  simulate FILE                         run one scenario and print its timeline\n";
}

int RunTestCommand(const std::vector<std::string>& paths, bool json, std::ostream& out, std::ostream& err) {
  if (paths.empty()) {
    err << "nurt: test needs scenario files or folders (e.g. nurt test workflows)\n";
    return 2;
  }
  std::vector<std::string> missing;
  const auto files = ScenarioFiles(paths, &missing);
  for (const auto& m : missing) err << "nurt: " << m << ": no such file or folder\n";
  if (files.empty()) {
    err << "nurt: no scenario (kind: Scenario) found under " << paths.front() << (paths.size() > 1 ? " …" : "")
        << "\n";
    return 1;
  }
  int failed = 0;
  Json report = Json::array();
  for (const auto& file : files) {
    const TimePoint started = env::SystemClock()->Now();
    auto loaded = scenario::LoadScenarioFile(file);
    if (!loaded.scenario) {
      ++failed;
      for (const auto& d : loaded.diagnostics) {
        if (json) {
          report.push_back(Json{{"file", file}, {"passed", false}, {"error", d.ToString()}});
        } else {
          out << d.ToString() << "\n";
        }
      }
      if (!json) out << "FAIL " << file << " (does not load)\n";
      continue;
    }
    const scenario::RunResult result = scenario::RunScenario(*loaded.scenario);
    const auto ms = (env::SystemClock()->Now() - started).count();
    if (json) {
      Json failures = Json::array();
      for (const auto& f : result.failures) {
        failures.push_back(Json{{"location", f.location.ToString()}, {"message", f.message}, {"history", f.history}});
      }
      report.push_back(Json{{"file", file},
                            {"name", loaded.scenario->name},
                            {"passed", result.passed},
                            {"steps", result.steps_run},
                            {"events", result.events},
                            {"virtualEnd", FormatIso8601(result.ended_at)},
                            {"ms", ms},
                            {"failures", failures}});
    } else if (result.passed) {
      out << "ok   " << loaded.scenario->name << " (" << file << ", " << result.steps_run << " steps, "
          << result.events << " events, " << ms << " ms)\n";
    } else {
      out << "FAIL " << loaded.scenario->name << " (" << file << ")\n";
      for (const auto& f : result.failures) {
        out << f.location.file << ":" << f.location.line << ": " << f.message << "\n";
        if (!f.history.empty()) out << f.history;
      }
    }
    failed += result.passed ? 0 : 1;
  }
  if (json) {
    out << report.dump(2) << "\n";
  } else {
    out << files.size() - static_cast<std::size_t>(failed) << " passed, " << failed << " failed\n";
  }
  return failed == 0 && missing.empty() ? 0 : 1;
}

int RunSimulateCommand(const std::vector<std::string>& paths, std::ostream& out, std::ostream& err) {
  if (paths.size() != 1) {
    err << "nurt: simulate needs exactly one scenario file\n";
    return 2;
  }
  auto loaded = scenario::LoadScenarioFile(paths.front());
  if (!loaded.scenario) {
    for (const auto& d : loaded.diagnostics) err << d.ToString() << "\n";
    return 1;
  }
  scenario::RunOptions options;
  options.timeline = &out;
  const scenario::RunResult result = scenario::RunScenario(*loaded.scenario, options);
  for (const auto& f : result.failures) {
    out << "FAIL " << f.location.file << ":" << f.location.line << ": " << f.message << "\n";
  }
  out << (result.passed ? "ok" : "FAIL") << ": " << result.steps_run << " steps, " << result.events
      << " events, virtual time now " << FormatIso8601(result.ended_at) << "\n";
  return result.passed ? 0 : 1;
}

}  // namespace nurt::cli
