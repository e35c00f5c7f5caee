// The loader's checks of the keys SCXML needs (loader_scxml.cpp; docs/dsl.md "SCXML executable
// content").
#include <gtest/gtest.h>

#include "nurt/dsl/loader.hpp"

namespace nurt::dsl {
namespace {

TEST(ScxmlLoaderTest, ReportsBadSendHistoryAndErrorsValues) {
  const std::string text = R"Y(apiVersion: nurt/v1
kind: Machine
name: t
version: 1
errors: sometimes
states:
  p:
    states:
      h: { type: history, history: medium }
      a:
        entry:
          - send: { data: 1 }
          - cancel: {}
          - foreach: { array: "ctx.x" }
    transitions:
      - { event: "bad event", target: a }
)Y";
  LoadResult r = LoadMachineText(text, "t.yaml");
  EXPECT_EQ(r.definition, nullptr);
  std::string all;
  for (const auto& d : r.diagnostics) all += d.ToString() + "\n";
  EXPECT_NE(all.find("t.yaml:5:9: error: errors 'sometimes' is not known"), std::string::npos)
      << all;
  EXPECT_NE(all.find("history depth 'medium'"), std::string::npos) << all;
  EXPECT_NE(all.find("history state 'h' has no 'target'"), std::string::npos) << all;
  EXPECT_NE(all.find("'send' has no 'event'"), std::string::npos) << all;
  EXPECT_NE(all.find("'cancel' has no 'id'"), std::string::npos) << all;
  EXPECT_NE(all.find("'foreach' has no 'item'"), std::string::npos) << all;
  EXPECT_NE(all.find("event name 'bad event' is not valid"), std::string::npos) << all;
}

}  // namespace
}  // namespace nurt::dsl
