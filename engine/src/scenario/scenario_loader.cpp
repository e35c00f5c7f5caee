// Reading `kind: Scenario` files (docs/scenarios.md) into steps, with file:line:col for every mistake.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "dsl/yaml_walker.hpp"
#include "nurt/core/duration.hpp"
#include "nurt/core/suggest.hpp"
#include "nurt/env/file_system.hpp"
#include "nurt/scenario/scenario.hpp"

namespace nurt::scenario {
namespace {

using dsl::internal::SourceText;

const std::vector<std::string> kTopKeys = {"apiVersion", "kind",      "name",     "description", "machines",
                                           "rules",      "schedules", "start_at", "steps"};
const std::vector<std::string> kStepKinds = {"start", "send", "advance", "complete", "expect"};
const std::vector<std::string> kStartKeys = {"machine", "as", "data", "actor", "version"};
const std::vector<std::string> kSendKeys = {"to", "event", "data", "actor", "expect_error"};
const std::vector<std::string> kCompleteKeys = {"instance", "task", "decision", "data", "checklist", "actor",
                                                "expect_error"};
const std::vector<std::string> kExpectInstanceKeys = {"state", "status", "context", "events", "tasks", "timers"};
const std::vector<std::string> kNotificationKeys = {"channel", "to", "subject", "body"};

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The folder part of a path ("." for a bare file name).
std::string FolderOf(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

// "a/b/lead.scenario.yaml" -> "lead.scenario".
std::string StemOf(const std::string& path) {
  const auto slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const auto dot = name.rfind('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

// The document's top-level `kind:` ("" when the file is not a YAML map with one).
std::string KindOf(const std::string& path) {
  try {
    YAML::Node n = YAML::LoadFile(path);
    return n.IsMap() && n["kind"] && n["kind"].IsScalar() ? n["kind"].Scalar() : "";
  } catch (const std::exception&) {
    return "";
  }
}

class Loader {
 public:
  explicit Loader(const std::string& text, const std::string& file) : source_(text, file), file_(file) {}

  LoadResult Run(const std::string& text) {
    Scenario sc;
    sc.file = file_;
    sc.start_at = ParseIso8601("2026-01-05T08:00:00Z").value();  // a Monday, 09:00 in Warsaw
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      Error(source_.At(e.mark), "yaml-syntax", "invalid YAML: " + e.msg);
      return Finish(std::nullopt);
    }
    if (!root.IsMap()) {
      Error({file_, 1, 1}, "wrong-type", "a scenario is a map (apiVersion, kind: Scenario, name, steps)");
      return Finish(std::nullopt);
    }
    bool has_steps = false;
    bool explicit_files = false;
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string key = it->first.Scalar();
      const YAML::Node v = it->second;
      if (key == "apiVersion") {
        if (!v.IsScalar() || v.Scalar() != "nurt/v1") Error(At(v), "bad-value", "apiVersion must be nurt/v1");
      } else if (key == "kind") {
        if (!v.IsScalar() || v.Scalar() != "Scenario") {
          Error(At(v), "bad-value", "kind must be Scenario in a scenario file");
        }
      } else if (key == "name") {
        sc.name = v.IsScalar() ? v.Scalar() : "";
      } else if (key == "description") {
        continue;
      } else if (key == "machines" || key == "rules" || key == "schedules") {
        explicit_files = true;
        std::vector<std::string>* out = key == "machines" ? &sc.machine_files
                                        : key == "rules"  ? &sc.rule_files
                                                          : &sc.schedule_files;
        if (!v.IsSequence()) {
          Error(At(v), "wrong-type", "'" + key + "' must be a list of files, relative to this file");
          continue;
        }
        for (const auto& m : v) {
          const std::string p = FolderOf(file_) + "/" + (m.IsScalar() ? m.Scalar() : "");
          if (!m.IsScalar() || env::LocalFileSystem()->IsDirectory(p) || !env::LocalFileSystem()->ReadFile(p).ok()) {
            Error(At(m), "bad-value", "file '" + (m.IsScalar() ? m.Scalar() : "?") + "' does not exist (looked at " +
                                          p + ")");
            continue;
          }
          out->push_back(p);
        }
      } else if (key == "start_at") {
        auto t = ParseIso8601(v.IsScalar() ? v.Scalar() : "");
        if (!t.ok()) {
          Error(At(v), "bad-value", "start_at: " + t.status().message());
        } else {
          sc.start_at = *t;
        }
      } else if (key == "steps") {
        has_steps = true;
        if (!v.IsSequence() || v.size() == 0) {
          Error(At(v), "wrong-type", "'steps' must be a list of steps (start, send, advance, complete, expect)");
          continue;
        }
        for (const auto& item : v) ParseStep(item, &sc);
      } else {
        Error(At(it->first), "unknown-key", "unknown key '" + key + "' in the scenario" + DidYouMean(key, kTopKeys));
      }
    }
    if (!has_steps) Error({file_, 1, 1}, "missing-key", "the scenario has no 'steps'");
    if (sc.name.empty()) sc.name = StemOf(file_);
    if (!explicit_files) {
      // The documents in the scenario's own folder (not in folders below it).
      const std::string folder = FolderOf(file_);
      auto listed = env::LocalFileSystem()->ListFiles(folder, {".yaml", ".yml"});
      for (const std::string& path : listed.ok() ? *listed : std::vector<std::string>()) {
        if (FolderOf(path) != folder) continue;
        const std::string kind = KindOf(path);  // each file parsed once
        if (kind == "Machine") sc.machine_files.push_back(path);
        if (kind == "Rules") sc.rule_files.push_back(path);
        if (kind == "Schedule") sc.schedule_files.push_back(path);
      }
      for (auto* files : {&sc.machine_files, &sc.rule_files, &sc.schedule_files}) std::sort(files->begin(), files->end());
    }
    return Finish(std::move(sc));
  }

 private:
  dsl::SourceLocation At(const YAML::Node& n) const { return source_.At(n.Mark()); }

  void Error(const dsl::SourceLocation& at, const std::string& rule, const std::string& message) {
    diagnostics_.push_back(dsl::Diagnostic{at, dsl::Severity::kError, rule, message});
  }

  void CheckKeys(const YAML::Node& map, const std::vector<std::string>& allowed, const std::string& where) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        Error(At(it->first), "unknown-key", "unknown key '" + key + "' in " + where + DidYouMean(key, allowed));
      }
    }
  }

  void Require(const YAML::Node& map, const std::vector<std::string>& keys, const std::string& where,
               const dsl::SourceLocation& at) {
    for (const auto& k : keys) {
      if (!map[k]) Error(at, "missing-key", where + " needs '" + k + "'");
    }
  }

  void ParseStep(const YAML::Node& item, Scenario* sc) {
    const dsl::SourceLocation at = At(item);
    if (!item.IsMap() || item.size() != 1) {
      Error(at, "wrong-type", "a step is a map with one key: start, send, advance, complete or expect");
      return;
    }
    const std::string kind = item.begin()->first.Scalar();
    const YAML::Node body = item.begin()->second;
    Step step;
    step.location = at;
    step.args = dsl::internal::ToJson(body);
    if (kind == "start") {
      step.kind = Step::Kind::kStart;
      if (!body.IsMap()) return Error(At(body), "wrong-type", "'start' is a map: {machine, as, data, actor}");
      CheckKeys(body, kStartKeys, "'start'");
      Require(body, {"machine"}, "'start'", at);
    } else if (kind == "send") {
      step.kind = Step::Kind::kSend;
      if (!body.IsMap()) return Error(At(body), "wrong-type", "'send' is a map: {to, event, data, actor}");
      CheckKeys(body, kSendKeys, "'send'");
      Require(body, {"to", "event"}, "'send'", at);
    } else if (kind == "advance") {
      step.kind = Step::Kind::kAdvance;
      const std::string text = body.IsScalar() ? body.Scalar() : "";
      if (text.empty()) return Error(At(body), "wrong-type", "'advance' is a duration (PT4H, P3D) or a time");
      if (!ParseIsoDuration(text).ok() && !ParseIso8601(text).ok()) {
        return Error(At(body), "bad-duration",
                     "'advance: " + text +
                         "' is neither an ISO-8601 duration (PT4H, P3D) nor a time (2026-04-01T09:00:00+02:00)");
      }
    } else if (kind == "complete") {
      step.kind = Step::Kind::kComplete;
      if (!body.IsMap()) return Error(At(body), "wrong-type", "'complete' is a map: {instance, decision, data}");
      CheckKeys(body, kCompleteKeys, "'complete'");
      Require(body, {"instance", "decision"}, "'complete'", at);
    } else if (kind == "expect") {
      step.kind = Step::Kind::kExpect;
      if (!body.IsMap()) return Error(At(body), "wrong-type", "'expect' is a map: instance alias -> what to check");
      for (auto it = body.begin(); it != body.end(); ++it) {
        const std::string alias = it->first.Scalar();
        step.places.emplace_back(alias, At(it->first));
        if (alias == "notifications") {
          if (!it->second.IsSequence()) {
            Error(At(it->second), "wrong-type", "'notifications' is a list of {channel, to, subject, body}");
            continue;
          }
          for (const auto& n : it->second) {
            if (n.IsMap()) CheckKeys(n, kNotificationKeys, "an expected notification");
          }
          continue;
        }
        if (!it->second.IsMap()) {
          Error(At(it->second), "wrong-type",
                "what to expect of '" + alias + "' is a map (state, status, context, events, tasks, timers)");
          continue;
        }
        CheckKeys(it->second, kExpectInstanceKeys, "the expectations of '" + alias + "'");
        for (auto k = it->second.begin(); k != it->second.end(); ++k) {
          step.places.emplace_back(alias + "." + k->first.Scalar(), At(k->first));
        }
      }
    } else {
      return Error(At(item.begin()->first), "unknown-key",
                   "unknown step '" + kind + "'" + DidYouMean(kind, kStepKinds) +
                       " (steps: start, send, advance, complete, expect)");
    }
    sc->steps.push_back(std::move(step));
  }

  LoadResult Finish(std::optional<Scenario> sc) {
    LoadResult r;
    r.diagnostics = std::move(diagnostics_);
    if (std::none_of(r.diagnostics.begin(), r.diagnostics.end(),
                     [](const dsl::Diagnostic& d) { return d.severity == dsl::Severity::kError; })) {
      r.scenario = std::move(sc);
    }
    return r;
  }

  SourceText source_;
  std::string file_;
  std::vector<dsl::Diagnostic> diagnostics_;
};

}  // namespace

LoadResult LoadScenarioFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) {
    dsl::Diagnostic unreadable;
    unreadable.location = dsl::SourceLocation{path, 0, 0};
    unreadable.severity = dsl::Severity::kError;
    unreadable.rule_id = "unreadable-file";
    unreadable.message = "cannot read " + path;
    LoadResult r;
    r.diagnostics.push_back(std::move(unreadable));
    return r;
  }
  return Loader(*text, path).Run(*text);
}

bool IsScenarioFile(const std::string& path) { return KindOf(path) == "Scenario"; }

}  // namespace nurt::scenario
