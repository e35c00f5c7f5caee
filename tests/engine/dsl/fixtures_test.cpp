// Every broken fixture produces exactly the diagnostics in its .expected file (all of them, with exact
// positions); every valid fixture loads without a single diagnostic; every rule id documented in
// docs/dsl.md is exercised by at least one fixture, with the documented severity.

#include <gtest/gtest.h>

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
using testing::Render;
using testing::YamlFiles;

std::string Stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char c : Stem(info.param)) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

std::vector<std::string> NonEmpty(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

class BrokenFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(BrokenFixture, ReportsExactlyTheExpectedDiagnostics) {
  const std::string yaml = GetParam();
  const std::string expected_path = yaml.substr(0, yaml.size() - 5) + ".expected";
  ASSERT_TRUE(std::filesystem::exists(expected_path)) << "missing " << expected_path;
  const std::vector<std::string> expected = NonEmpty(Lines(ReadText(expected_path)));
  ASSERT_FALSE(expected.empty()) << expected_path << " lists no diagnostic";

  const LoadResult result = LoadMachineFile(yaml);
  const std::vector<std::string> actual = Render(result.diagnostics, FixturesDir() + "/");
  EXPECT_EQ(actual, expected) << "actual diagnostics:\n" << [&] {
    std::string all;
    for (const auto& a : actual) all += a + "\n";
    return all;
  }();
  EXPECT_EQ(result.definition != nullptr, !HasErrors(result.diagnostics))
      << "a definition is produced exactly when there is no error";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BrokenFixture,
                         ::testing::ValuesIn(YamlFiles(FixturesDir() + "/broken", false)), TestName);

class ValidFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(ValidFixture, LoadsWithoutAnyDiagnostic) {
  const LoadResult result = LoadMachineFile(GetParam());
  EXPECT_TRUE(result.diagnostics.empty()) << [&] {
    std::string all;
    for (const auto& d : result.diagnostics) all += d.ToString() + "\n";
    return all;
  }();
  ASSERT_NE(result.definition, nullptr);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ValidFixture, ::testing::ValuesIn(YamlFiles(FixturesDir() + "/valid", false)),
                         TestName);

// The rule table of docs/dsl.md: rule id -> severity.
std::map<std::string, std::string> DocumentedRules() {
  std::map<std::string, std::string> rules;
  const std::regex row(R"(^\| `([a-z-]+)` \| (error|warning) \|)");
  for (const auto& line : Lines(ReadText(testing::SourceRoot() + "/docs/dsl.md"))) {
    std::smatch m;
    if (std::regex_search(line, m, row)) rules[m[1]] = m[2];
  }
  return rules;
}

TEST(FixtureCoverage, EveryDocumentedRuleHasABrokenFixtureWithItsSeverity) {
  const auto rules = DocumentedRules();
  ASSERT_GE(rules.size(), 17u) << "could not read the rule table of docs/dsl.md";
  std::map<std::string, std::set<std::string>> seen;  // rule -> severities
  const std::regex diagnostic(R"(: (error|warning): .* \[([a-z-]+)\]$)");
  for (const auto& yaml : YamlFiles(FixturesDir() + "/broken", false)) {
    const std::string expected = yaml.substr(0, yaml.size() - 5) + ".expected";
    for (const auto& line : Lines(ReadText(expected))) {
      std::smatch m;
      if (std::regex_search(line, m, diagnostic)) seen[m[2]].insert(m[1]);
    }
  }
  for (const auto& [rule, severity] : rules) {
    if (rule == "unreadable-file") continue;  // a file that cannot be read cannot be a fixture (loader_test)
    ASSERT_TRUE(seen.count(rule)) << "no broken fixture expects [" << rule << "]";
    EXPECT_EQ(seen[rule], std::set<std::string>{severity}) << "[" << rule << "] is documented as " << severity;
  }
  for (const auto& [rule, severities] : seen) {
    EXPECT_TRUE(rules.count(rule)) << "[" << rule << "] is reported but not documented in docs/dsl.md";
  }
}

}  // namespace
}  // namespace nurt::dsl
