// `task:` as the loader builds it (TaskSpec and its JSON forms), the role and field-type lists, `due:`
// durations, and how `nurt graph` marks task states.

#include <gtest/gtest.h>

#include <string>

#include "dsl_test_util.hpp"
#include "nurt/core/duration.hpp"
#include "nurt/dsl/graph.hpp"
#include "nurt/dsl/loader.hpp"

namespace nurt::dsl {
namespace {

using testing::FixturesDir;

TEST(TaskSpec, LoaderBuildsEveryKeyOfTheTask) {
  const LoadResult r = LoadMachineFile(FixturesDir() + "/valid/task.yaml");
  ASSERT_NE(r.definition, nullptr);
  const Definition& d = *r.definition;
  const StateSpec& review = d.state(d.Find("review_offer"));
  ASSERT_TRUE(review.task.has_value());
  const TaskSpec& t = *review.task;
  EXPECT_EQ(t.title, "Review the offer");
  EXPECT_EQ(t.description, "Check prices and the NIP");
  EXPECT_EQ(t.assignee_role, "coordinator");
  EXPECT_EQ(t.assignee_user, "");
  EXPECT_EQ(t.due, "P1DT12H");
  EXPECT_EQ(t.due_ms, 36 * 3600 * 1000LL);
  EXPECT_EQ(t.location.line, 14);
  EXPECT_EQ(t.FormJson(),
            Json::parse(R"j([{"name":"amount","type":"number","required":true,"label":"Amount (PLN)"},
                            {"name":"kind","type":"enum","required":false,"options":["standard","premium"]},
                            {"name":"count","type":"integer","required":false},
                            {"name":"urgent","type":"boolean","required":false},
                            {"name":"start","type":"date","required":false},
                            {"name":"note","type":"string","required":false}])j"));
  EXPECT_EQ(t.ChecklistJson(), Json::parse(R"(["Check NIP","Check the address"])"));
  EXPECT_EQ(t.DecisionsJson().dump(),
            R"({"approve":"offer.approved","reject":"offer.rejected","withdraw":"offer.withdrawn"})")
      << "decisions keep their written order";

  const TaskSpec& signing = *d.state(d.Find("signing")).task;
  EXPECT_EQ(signing.assignee_user, "anna@firma.pl");
  EXPECT_EQ(signing.due_ms, 4 * 3600 * 1000LL);
  const TaskSpec& invoicing = *d.state(d.Find("invoicing")).task;
  EXPECT_EQ(invoicing.assignee_role, "");
  EXPECT_EQ(invoicing.assignee_user, "");
  EXPECT_FALSE(invoicing.due_ms.has_value());
  EXPECT_TRUE(invoicing.form.empty());
  EXPECT_FALSE(d.state(d.Find("done")).task.has_value());
}

TEST(TaskSpec, RolesAndFieldTypesAreTheDocumentedLists) {
  EXPECT_EQ(KnownRoles(), (std::vector<std::string>{"architect", "installer", "coordinator", "finance", "admin"}));
  EXPECT_EQ(TaskFieldTypes(),
            (std::vector<std::string>{"string", "number", "integer", "boolean", "date", "enum"}));
}

// `due:` takes the core ISO-8601 durations (core/duration.hpp): what a designer may write there.
TEST(TaskSpec, DurationsAreWeeksDaysHoursMinutesSeconds) {
  EXPECT_EQ(ParseIsoDuration("P2D")->count(), 2 * 86400000LL);
  EXPECT_EQ(ParseIsoDuration("P1W")->count(), 7 * 86400000LL);
  EXPECT_EQ(ParseIsoDuration("PT4H")->count(), 4 * 3600000LL);
  EXPECT_EQ(ParseIsoDuration("PT30M")->count(), 30 * 60000LL);
  EXPECT_EQ(ParseIsoDuration("PT1.5S")->count(), 1500);
  EXPECT_EQ(ParseIsoDuration("P1DT2H3M4S")->count(), 86400000LL + 2 * 3600000LL + 3 * 60000LL + 4000);
  for (const char* bad : {"", "P", "2D", "PT", "P1DT", "P1M", "P1Y", "P2X", "PT1H2H", "PT2M1H", "P1.5D", "P-1D",
                          "p2d"}) {
    auto r = ParseIsoDuration(bad);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
    const std::string& m = r.status().message();
    EXPECT_TRUE(m.find("P2D") != std::string::npos || m.find("P30D") != std::string::npos) << m;
  }
  EXPECT_NE(ParseIsoDuration("P1M").status().message().find("P30D"), std::string::npos);
}

TEST(TaskSpec, GraphMarksTaskStatesInBothFormats) {
  const LoadResult r = LoadMachineFile(FixturesDir() + "/valid/task.yaml");
  ASSERT_NE(r.definition, nullptr);
  const std::string mermaid = RenderGraph(*r.definition, GraphFormat::kMermaid);
  EXPECT_NE(mermaid.find("    review_offer : task: Review the offer\n"), std::string::npos) << mermaid;
  EXPECT_NE(mermaid.find("        packing : task: Pack the panels\n"), std::string::npos) << mermaid;
  EXPECT_EQ(mermaid.find("done : task"), std::string::npos) << mermaid;
  const std::string dot = RenderGraph(*r.definition, GraphFormat::kDot);
  EXPECT_NE(dot.find(R"("signing" [label="signing\ntask: Sign the contract"];)"), std::string::npos) << dot;
}

}  // namespace
}  // namespace nurt::dsl
