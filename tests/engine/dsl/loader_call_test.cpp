// The `call:` action (docs/effects.md): checked against the adapter catalog with file:line:col — unknown
// adapters with did-you-mean, input fields the schema does not allow, literal values that break their
// property's schema, missing required input, bad retry policies — and the named retry policies.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nurt/dsl/loader.hpp"

namespace nurt::dsl {
namespace {

using ::testing::HasSubstr;

std::string Machine(const std::string& call) {
  return "apiVersion: nurt/v1\nkind: Machine\nname: purchase\nversion: 1\ninitial: ordering\nstates:\n"
         "  ordering:\n    entry:\n      - call:\n" +
         call +
         "    on:\n      order.done: ordered\n      order.failed: ordered\n  ordered: { type: final }\n";
}

std::vector<std::string> Errors(const std::string& call, const LoadOptions& options = {}) {
  LoadResult r = LoadMachineText(Machine(call), "purchase.yaml", options);
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics) {
    if (d.severity == Severity::kError) out.push_back(d.ToString());
  }
  return out;
}

TEST(LoaderCall, AValidCallCarriesItsAdapterStepInputAndNormalisedRetry) {
  LoadResult r = LoadMachineText(Machine("          adapter: http\n          step: order\n"
                                         "          input: { url: ctx.url, body: ctx.order, timeoutMs: 5000 }\n"
                                         "          retry: immediate\n"),
                                 "purchase.yaml");
  ASSERT_TRUE(r.definition) << (r.diagnostics.empty() ? "" : r.diagnostics[0].ToString());
  const ActionSpec& a = r.definition->states[1].entry[0];
  EXPECT_EQ(a.kind, ActionSpec::Kind::kCall);
  EXPECT_EQ(a.adapter, "http");
  EXPECT_EQ(a.step, "order");
  ASSERT_EQ(a.data_fields.size(), 3u);
  EXPECT_TRUE(a.data_fields[0].second.is_expression);
  EXPECT_EQ(a.data_fields[2].second.literal, 5000);
  EXPECT_EQ(a.retry["tries"], 3);
  EXPECT_EQ(a.retry["delays"], Json::array({"PT5S"}));
}

TEST(LoaderCall, UnknownAdapterSaysWhereAndSuggests) {
  auto errors = Errors("          adapter: htp\n          step: order\n          input: { url: ctx.url }\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("purchase.yaml:10:20: error: unknown adapter 'htp'; did you mean 'http'?"));
  EXPECT_THAT(errors[0], HasSubstr("[unknown-adapter]"));
}

TEST(LoaderCall, InputIsCheckedAgainstTheAdapterSchema) {
  auto errors = Errors("          adapter: http\n          step: order\n"
                       "          input: { uri: ctx.url, timeoutMs: 0, headers: { X-A: 1 } }\n");
  ASSERT_EQ(errors.size(), 4u) << ::testing::PrintToString(errors);
  EXPECT_THAT(errors[0], HasSubstr("purchase.yaml:12:11: error: the input of adapter 'http' has no 'url', which it requires"));
  EXPECT_THAT(errors[1], HasSubstr("purchase.yaml:12:20: error: adapter 'http' has no input 'uri'; did you mean 'url'?"));
  EXPECT_THAT(errors[2], HasSubstr("purchase.yaml:12:45: error: input 'timeoutMs' of adapter 'http': Expected number "
                                   "greater than or equal to 1"));
  EXPECT_THAT(errors[3], HasSubstr("purchase.yaml:12:57: error: input 'headers' of adapter 'http'"));
  EXPECT_THAT(errors[3], HasSubstr("(at [X-A])"));
}

TEST(LoaderCall, MissingKeysAndBadRetryPoliciesAreReported) {
  auto errors = Errors("          adapter: http\n          input: { url: ctx.url }\n          retry: exponental\n");
  ASSERT_EQ(errors.size(), 2u) << ::testing::PrintToString(errors);
  EXPECT_THAT(errors[0], HasSubstr("purchase.yaml:9:9: error: the 'call' action has no 'step'"));
  EXPECT_THAT(errors[1], HasSubstr("purchase.yaml:12:18: error: 'retry' of the 'call' action: unknown retry "
                                   "policy 'exponental'; did you mean 'exponential'?"));
  errors = Errors("          adapter: http\n          step: order\n          input: { url: ctx.url }\n"
                  "          retry: { tries: 4 }\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("needs 'delays'"));
}

TEST(LoaderCall, ACustomCatalogReplacesTheBuiltInOne) {
  AdapterCatalog catalog = {{"ksef", Json{{"type", "object"}}}};
  LoadOptions o;
  o.adapters = &catalog;
  EXPECT_TRUE(Errors("          adapter: ksef\n          step: order\n", o).empty());
  auto errors = Errors("          adapter: http\n          step: order\n          input: { url: ctx.url }\n", o);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("unknown adapter 'http' (known: ksef)"));
}

TEST(RetryPolicies, NamedPoliciesAndCustomOnes) {
  auto e = ParseRetryPolicy(Json("exponential"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->tries, 6);
  EXPECT_EQ(e->delays.size(), 5u);
  EXPECT_EQ(e->delays.back(), std::chrono::hours(2));
  EXPECT_DOUBLE_EQ(e->jitter, 0.2);
  auto m = ParseRetryPolicy(Json("manual"));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->tries, 1);
  auto c = ParseRetryPolicy(Json{{"tries", 5}, {"delays", {"PT10S", "PT1M"}}, {"jitter", 0.1}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "custom");
  // The normalised form parses back to the same policy.
  auto again = ParseRetryPolicy(c->ToJson());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->delays, c->delays);
  EXPECT_EQ(again->tries, 5);
  EXPECT_TRUE(ParseRetryPolicy(Json{{"tries", 0}}).status().IsInvalidArgument());
  EXPECT_TRUE(ParseRetryPolicy(Json{{"tries", 2}, {"delays", {"soon"}}}).status().IsInvalidArgument());
  EXPECT_TRUE(ParseRetryPolicy(Json{{"tries", 2}, {"delay", {"PT1S"}}}).status().IsInvalidArgument());
  EXPECT_TRUE(ParseRetryPolicy(Json(3)).status().IsInvalidArgument());
}

}  // namespace
}  // namespace nurt::dsl
