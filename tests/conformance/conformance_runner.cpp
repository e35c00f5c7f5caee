// The W3C SCXML conformance suite (Lua datamodel) against nurt: imports every test of the suite
// with `nurt import scxml`'s importer, loads the YAML with the DSL loader and runs it in virtual
// time; a test passes when the machine ends in its final state `pass`. Prints the table (test,
// mandatory/optional, pass/fail/skip, reason), writes it as Markdown to --out, and fails when fewer
// mandatory tests pass than the number recorded in --expected
// (tests/conformance/expected_mandatory_passes.txt).
//
//   nurt_conformance --suite DIR --expected FILE --known FILE --out FILE [--only ID]
//
// The run drives the pure Interpreter as an SCXML session would: the instance's own external queue
// holds `send` events (effects), ordered by due time in virtual time, so a delay of 2s costs
// nothing; `cancel` removes a pending delayed one. The engine persists the same effects as durable
// timers (docs/dsl.md "SCXML executable content"); this runner skips the store only to run 190
// machines in well under a second.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "nurt/dsl/graph.hpp"
#include "nurt/dsl/loader.hpp"
#include "nurt/interp/interpreter.hpp"
#include "nurt/lua/runtime.hpp"
#include "nurt/scxml/importer.hpp"

namespace {

struct TestCase {
  std::string id;
  bool mandatory = false;
  bool manual = false;
};

struct Outcome {
  std::string verdict;  // pass | fail | skip
  std::string reason;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<TestCase> ReadManifest(const std::string& text) {
  std::vector<TestCase> out;
  static const std::regex test(
      R"re(<test\s+id="([^"]+)"\s+conformance="(\w+)"\s+manual="(\w+)")re");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), test); it != std::sregex_iterator();
       ++it) {
    out.push_back(TestCase{(*it)[1], (*it)[2] == "mandatory", (*it)[3] == "true"});
  }
  return out;
}

struct Queued {
  nurt::TimePoint due;
  std::int64_t order = 0;
  bool delayed = false;
  nurt::interp::Event event;
};

// Runs one imported machine to the end of its external queue (or 1,000 events).
Outcome RunMachine(const std::shared_ptr<const nurt::dsl::Definition>& def,
                   nurt::lua::Runtime* lua) {
  using nurt::interp::Effect;
  const nurt::interp::Interpreter interpreter(def, lua);
  nurt::interp::StepOptions options;
  options.instance_id = "session-1";
  options.now = nurt::TimePoint{} + std::chrono::hours(24 * 365 * 50);
  std::vector<Queued> queue;
  std::int64_t order = 0;
  std::vector<std::string> log;
  auto apply = [&](const nurt::interp::StepResult& r) {
    for (const auto& line : r.log) log.push_back(line);
    for (const Effect& fx : r.effects) {
      if (fx.kind == Effect::Kind::kCancel) {
        queue.erase(std::remove_if(queue.begin(), queue.end(),
                                   [&](const Queued& q) {
                                     return q.delayed && q.event.send_id == fx.send_id;
                                   }),
                    queue.end());
      } else if (fx.kind == Effect::Kind::kSend && fx.to == options.instance_id) {
        Queued q;
        q.due = options.now + std::chrono::milliseconds(fx.delay_ms);
        q.order = order++;
        q.delayed = fx.delay_ms > 0;
        q.event.name = fx.name;
        q.event.data = fx.data;
        q.event.send_id = fx.send_id;
        q.event.origin = "#_scxml_" + options.instance_id;
        q.event.origin_type = "http://www.w3.org/TR/scxml/#SCXMLEventProcessor";
        queue.push_back(std::move(q));
      }
    }
  };
  nurt::interp::Event start;
  start.name = "nurt.start";
  auto started = interpreter.Start(def->initial_context, start, options);
  if (!started.ok()) return {"fail", "start: " + started.status().message()};
  nurt::interp::Snapshot snapshot = started->snapshot;
  apply(*started);
  for (int steps = 0; !snapshot.done && !queue.empty(); ++steps) {
    if (steps > 1000) return {"fail", "did not finish after 1000 external events"};
    auto next = std::min_element(queue.begin(), queue.end(), [](const Queued& a, const Queued& b) {
      return a.due != b.due ? a.due < b.due : a.order < b.order;
    });
    Queued q = std::move(*next);
    queue.erase(next);
    options.now = std::max(options.now, q.due);  // virtual time: jump to the next due event
    options.sequence = steps + 1;
    auto r = interpreter.Step(snapshot, q.event, options);
    if (!r.ok()) {
      if (r.status().IsFailedPrecondition()) continue;  // SCXML: an event nobody takes is discarded
      return {"fail", "event '" + q.event.name + "': " + r.status().message()};
    }
    snapshot = r->snapshot;
    apply(*r);
  }
  const auto leaves = snapshot.ActiveLeaves(*def);
  if (snapshot.done && std::find(leaves.begin(), leaves.end(), "pass") != leaves.end())
    return {"pass", ""};
  std::string where;
  for (const auto& l : leaves) where += (where.empty() ? "" : ", ") + l;
  return {"fail", std::string(snapshot.done ? "ended in " : "stopped in ") + where +
                      (queue.empty() ? " (no events left)" : "")};
}

std::string Escape(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out.size() > 240 ? out.substr(0, 237) + "..." : out;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  const std::string suite = args["--suite"];
  const std::string manifest = ReadFile(suite + "/manifest.xml");
  if (manifest.empty()) {
    std::cerr << "nurt_conformance: cannot read " << suite << "/manifest.xml (give --suite DIR)\n";
    return 2;
  }
  auto lua = nurt::lua::NewRuntime();
  if (!lua.ok()) {
    std::cerr << lua.status().message() << "\n";
    return 2;
  }
  // Why a test fails when the importer had nothing to warn about
  // (tests/conformance/known_failures.tsv).
  std::map<std::string, std::string> known;
  {
    std::istringstream lines(ReadFile(args["--known"]));
    for (std::string line; std::getline(lines, line);) {
      const auto tab = line.find('\t');
      if (line.empty() || line[0] == '#' || tab == std::string::npos) continue;
      known[line.substr(0, tab)] = line.substr(tab + 1);
    }
  }
  std::ostringstream table;
  table << "| test | conformance | result | reason |\n|---|---|---|---|\n";
  int counts[2][3] = {};  // [mandatory][pass, fail, skip]
  int not_in_lua = 0;
  for (const TestCase& t : ReadManifest(manifest)) {
    if (args.count("--only") && args["--only"] != t.id) continue;
    const std::string path = suite + "/lua/test" + t.id + ".scxml";
    const std::string text = ReadFile(path);
    Outcome o;
    if (text.empty()) {
      ++not_in_lua;  // not in the Lua suite (e.g. 436 is a null-datamodel test): not counted
      continue;
    }
    if (t.manual) {
      o = {"skip", "needs manual checking (manifest manual=\"true\")"};
    } else if (text.find("BasicHTTPEventProcessor") != std::string::npos) {
      o = {"skip", "needs the optional Basic HTTP Event I/O processor"};
    } else {
      auto imported = nurt::scxml::ImportScxmlText(text, path);
      if (!imported.ok()) {
        o = {"fail", "import: " + imported.status().message()};
      } else {
        auto loaded = nurt::dsl::LoadMachineText(imported->yaml, imported->machine_name + ".yaml");
        if (!loaded.definition) {
          std::string why;
          for (const auto& d : loaded.diagnostics) {
            if (d.severity == nurt::dsl::Severity::kError) why += d.ToString() + "; ";
          }
          o = {"fail", "the imported YAML does not load: " + why};
        } else {
          o = RunMachine(loaded.definition, lua->get());
          if (o.verdict == "fail" && known.count(t.id)) o.reason = known[t.id] + " — " + o.reason;
          if (o.verdict == "fail" && !imported->warnings.empty()) {
            std::string w = imported->warnings.front();
            w = w.substr(w.find(": ") + 2);
            o.reason = "not imported: " + w + " — " + o.reason;
          }
        }
      }
    }
    const int v = o.verdict == "pass" ? 0 : o.verdict == "fail" ? 1 : 2;
    ++counts[t.mandatory ? 1 : 0][v];
    table << "| " << t.id << " | " << (t.mandatory ? "mandatory" : "optional") << " | " << o.verdict
          << " | " << Escape(o.reason) << " |\n";
  }
  std::ostringstream summary;
  summary << "mandatory: " << counts[1][0] << " pass, " << counts[1][1] << " fail, " << counts[1][2]
          << " skip; optional: " << counts[0][0] << " pass, " << counts[0][1] << " fail, "
          << counts[0][2] << " skip (" << not_in_lua << " manifest tests have no Lua version)\n";
  std::cout << table.str() << "\n" << summary.str();
  if (args.count("--out")) {
    std::ofstream out(args["--out"]);
    out << "# W3C SCXML conformance (Lua datamodel)\n\n" << summary.str() << "\n" << table.str();
  }
  // Every machine of the suite (tests, their child documents, the encoding tests) imports, loads
  // and draws: `nurt import scxml` + `nurt graph` work for all of them.
  int drawn = 0, files = 0;
  std::vector<std::string> undrawable;
  for (const auto& entry : std::filesystem::directory_iterator(suite + "/lua")) {
    if (entry.path().extension() != ".scxml" || args.count("--only")) continue;
    ++files;
    const std::string path = entry.path().string();
    auto imported = nurt::scxml::ImportScxmlText(ReadFile(path), path);
    if (!imported.ok()) {
      undrawable.push_back(imported.status().message());
      continue;
    }
    auto loaded = nurt::dsl::LoadMachineText(imported->yaml, imported->machine_name + ".yaml");
    if (!loaded.definition) {
      undrawable.push_back(path + ": the imported YAML does not load");
      continue;
    }
    const std::string mermaid =
        nurt::dsl::RenderGraph(*loaded.definition, nurt::dsl::GraphFormat::kMermaid);
    const std::string dot =
        nurt::dsl::RenderGraph(*loaded.definition, nurt::dsl::GraphFormat::kDot);
    if (mermaid.empty() || dot.empty()) {
      undrawable.push_back(path + ": nothing drawn");
      continue;
    }
    ++drawn;
  }
  std::cout << "imported, loaded and drawn: " << drawn << " of " << files << " SCXML files\n";
  for (const auto& u : undrawable) std::cerr << "  " << u << "\n";
  if (!undrawable.empty()) return 1;
  if (args.count("--expected") && !args.count("--only")) {
    const int expected = std::atoi(ReadFile(args["--expected"]).c_str());
    if (counts[1][0] < expected) {
      std::cerr << "nurt_conformance: " << counts[1][0] << " mandatory tests pass, fewer than the "
                << expected << " recorded in " << args["--expected"] << ": a regression\n";
      return 1;
    }
  }
  return 0;
}
