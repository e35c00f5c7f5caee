// schemas/nurt-channels.schema.json agrees with the channel loader on the fixtures: the full example
// passes both, each broken file is refused by both. Checked with Python's jsonschema (Draft 2020-12)
// through tests/engine/dsl/validate_schema.py (YAML read as the loader reads it).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <sys/wait.h>

#include "notify_test_util.hpp"
#include "nurt/notify/channels.hpp"

namespace nurt::notify {
namespace {

std::string Fixture(const std::string& name) {
  return testing::SourceRoot() + "/tests/engine/notify/fixtures/" + name;
}

// file -> "OK" / "INVALID" / "ERROR" (the first word of the script's verdict lines for it).
std::map<std::string, std::string> RunSchema(const std::vector<std::string>& files) {
  std::string cmd = "/usr/bin/python3 '" + testing::SourceRoot() + "/tests/engine/dsl/validate_schema.py' '" +
                    testing::SourceRoot() + "/schemas/nurt-channels.schema.json'";
  for (const auto& f : files) cmd += " '" + f + "'";
  std::FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  std::map<std::string, std::string> out;
  std::string all;
  char line[4096];
  while (pipe && std::fgets(line, sizeof line, pipe)) {
    const std::string l = line;
    all += l;
    for (const auto& f : files) {
      if (l.find(" " + f) != std::string::npos && !out.count(f)) out[f] = l.substr(0, l.find(' '));
    }
  }
  const int status = pipe ? pclose(pipe) : -1;
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << all;
  return out;
}

TEST(ChannelsSchemaTest, SchemaAndLoaderAgreeOnTheFixtures) {
  const std::string valid = Fixture("channels.yaml");
  const std::vector<std::string> invalid = {
      Fixture("invalid/inline_password.yaml"), Fixture("invalid/unknown_key.yaml"),
      Fixture("invalid/bad_type.yaml"), Fixture("invalid/slack_without_url.yaml"),
      Fixture("invalid/bad_throttle.yaml")};
  std::vector<std::string> all = invalid;
  all.push_back(valid);
  const auto verdicts = RunSchema(all);

  const auto loaded = LoadChannelsText(testing::ReadFileText(valid), valid);
  EXPECT_TRUE(loaded.channels);
  EXPECT_TRUE(loaded.diagnostics.empty());
  EXPECT_EQ(verdicts.count(valid) ? verdicts.at(valid) : "", "OK");
  for (const auto& f : invalid) {
    EXPECT_TRUE(dsl::HasErrors(LoadChannelsText(testing::ReadFileText(f), f).diagnostics)) << f;
    EXPECT_EQ(verdicts.count(f) ? verdicts.at(f) : "", "INVALID") << f;
  }
}

}  // namespace
}  // namespace nurt::notify
