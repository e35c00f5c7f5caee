// schemas/nurt-machine.schema.json accepts what the loader accepts structurally, and rejects what it
// rejects. Checked with Python's jsonschema (Draft 2020-12) through validate_schema.py, over:
//   - every machine YAML under workflows/ and examples/ (whatever is there, recursively) and the valid
//     fixtures: the schema and the loader must both accept them;
//   - the broken fixtures: each structural error the loader reports (unknown-key, missing-key, wrong-type,
//     bad-value, final-has-transitions) must fall inside the text of a problem the schema reports; a
//     fixture with no such error must pass the schema (targets, Lua, reachability… are beyond a schema);
//     a yaml-syntax fixture must not parse in Python either.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "dsl_test_util.hpp"
#include "nurt/dsl/loader.hpp"

namespace nurt::dsl {
namespace {

using testing::FixturesDir;
using testing::Lines;
using testing::ReadText;
using testing::SourceRoot;

const std::set<std::string> kSchemaRules = {"unknown-key", "missing-key", "wrong-type", "bad-value",
                                            "final-has-transitions"};

std::string SchemaPath() { return SourceRoot() + "/schemas/nurt-machine.schema.json"; }

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Position {
  int line = 0;
  int column = 0;
  bool operator<=(const Position& o) const { return line < o.line || (line == o.line && column <= o.column); }
};

struct SchemaVerdict {
  std::string status;  // OK, INVALID or ERROR
  std::vector<std::pair<Position, Position>> ranges;
  std::vector<std::string> lines;
};

// Runs validate_schema.py over `files`; returns the verdict per file. Fails the test when Python or
// its modules are missing.
std::map<std::string, SchemaVerdict> RunSchema(const std::vector<std::string>& files) {
  std::map<std::string, SchemaVerdict> verdicts;
  std::string command = "/usr/bin/python3 " + ShellQuote(SourceRoot() + "/tests/engine/dsl/validate_schema.py") +
                        " " + ShellQuote(SchemaPath());
  for (const auto& f : files) command += " " + ShellQuote(f);
  command += " 2>&1";
  std::FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return verdicts;
  }
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  const int status = pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ADD_FAILURE() << "validate_schema.py failed (is /usr/bin/python3 with python3-yaml and python3-jsonschema "
                     "installed?):\n"
                  << output;
    return verdicts;
  }
  const std::regex invalid(R"(^INVALID (.+) (\d+):(\d+)-(\d+):(\d+) (/.*)$)");
  for (const auto& line : Lines(output)) {
    std::smatch m;
    if (line.rfind("OK ", 0) == 0) {
      verdicts[line.substr(3)].status = "OK";
    } else if (std::regex_match(line, m, invalid)) {
      auto& v = verdicts[m[1]];
      v.status = "INVALID";
      v.ranges.push_back({{std::stoi(m[2]), std::stoi(m[3])}, {std::stoi(m[4]), std::stoi(m[5])}});
      v.lines.push_back(line);
    } else if (line.rfind("ERROR ", 0) == 0) {
      const std::string rest = line.substr(6);
      auto& v = verdicts[rest.substr(0, rest.find(": "))];
      v.status = "ERROR";
      v.lines.push_back(line);
    } else {
      ADD_FAILURE() << "unexpected output of validate_schema.py: " << line;
    }
  }
  for (const auto& f : files) EXPECT_TRUE(verdicts.count(f)) << "no verdict for " << f << "\n" << output;
  return verdicts;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// A workflow file: declares the machine schema in its modeline, or says `kind: Machine`.
bool IsMachineFile(const std::string& text) {
  static const std::regex kind(R"((^|\n)kind:[ \t]*Machine[ \t]*(\r?\n|$))");
  return text.find("nurt-machine.schema.json") != std::string::npos || std::regex_search(text, kind);
}

std::vector<std::string> ShippedMachineFiles() {
  std::vector<std::string> files;
  for (const char* dir : {"workflows", "examples"}) {
    for (const auto& f : testing::YamlFiles(SourceRoot() + "/" + dir, true)) {
      if (IsMachineFile(ReadText(f))) files.push_back(f);
    }
  }
  return files;
}

TEST(Schema, AcceptsEveryShippedWorkflowAndValidFixtureAndSoDoesTheLoader) {
  std::vector<std::string> files = ShippedMachineFiles();
  const auto valid = testing::YamlFiles(FixturesDir() + "/valid", false);
  ASSERT_FALSE(valid.empty());
  files.insert(files.end(), valid.begin(), valid.end());
  std::cout << "[ schema   ] checking " << files.size() << " machine files (" << files.size() - valid.size()
            << " from workflows/ and examples/)\n";

  const auto verdicts = RunSchema(files);
  const std::regex modeline(R"(^# yaml-language-server: \$schema=(\S+))");
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    auto it = verdicts.find(f);
    ASSERT_NE(it, verdicts.end());
    EXPECT_EQ(it->second.status, "OK") << Join(it->second.lines);

    const LoadResult r = LoadMachineFile(f);
    EXPECT_FALSE(HasErrors(r.diagnostics)) << Join(testing::Render(r.diagnostics, ""));

    // The editor modeline (first line, docs/dsl.md) must point at the schema.
    const auto lines = Lines(ReadText(f));
    std::smatch m;
    ASSERT_FALSE(lines.empty());
    if (std::regex_search(lines[0], m, modeline)) {
      const auto target = std::filesystem::path(f).parent_path() / std::string(m[1]);
      EXPECT_TRUE(std::filesystem::exists(target) &&
                  std::filesystem::equivalent(target, SchemaPath()))
          << "the $schema modeline points to " << target << ", not to schemas/nurt-machine.schema.json";
    } else {
      ADD_FAILURE() << "the first line must be the schema modeline: "
                       "# yaml-language-server: $schema=<relative path>/schemas/nurt-machine.schema.json";
    }
  }
}

TEST(Schema, RejectsEveryStructuralProblemTheLoaderFindsAndNothingElse) {
  const auto broken = testing::YamlFiles(FixturesDir() + "/broken", false);
  ASSERT_FALSE(broken.empty());
  const auto verdicts = RunSchema(broken);
  const std::regex diagnostic(R"(^broken/[^:]+:(\d+):(\d+): error: .* \[([a-z-]+)\]$)");
  int structural_checked = 0;
  for (const auto& f : broken) {
    SCOPED_TRACE(f);
    auto it = verdicts.find(f);
    ASSERT_NE(it, verdicts.end());
    const SchemaVerdict& verdict = it->second;

    std::vector<std::pair<Position, std::string>> structural;
    bool yaml_syntax = false;
    for (const auto& line : Lines(ReadText(f.substr(0, f.size() - 5) + ".expected"))) {
      std::smatch m;
      if (!std::regex_match(line, m, diagnostic)) continue;
      if (m[3] == "yaml-syntax") yaml_syntax = true;
      if (kSchemaRules.count(m[3])) structural.push_back({{std::stoi(m[1]), std::stoi(m[2])}, line});
    }
    if (yaml_syntax) {
      EXPECT_EQ(verdict.status, "ERROR") << "Python's YAML parser should refuse this file too";
      continue;
    }
    if (structural.empty()) {
      EXPECT_EQ(verdict.status, "OK") << "the schema rejects a file whose problems are not structural:\n"
                                      << Join(verdict.lines);
      continue;
    }
    EXPECT_EQ(verdict.status, "INVALID");
    for (const auto& [at, line] : structural) {
      ++structural_checked;
      bool covered = false;
      for (const auto& [from, to] : verdict.ranges) covered = covered || (from <= at && at <= to);
      EXPECT_TRUE(covered) << "the schema misses this problem:\n  " << line << "\nschema said:\n"
                           << Join(verdict.lines);
    }
  }
  EXPECT_GE(structural_checked, 50) << "the structural fixtures lost most of their content";
}

}  // namespace
}  // namespace nurt::dsl
