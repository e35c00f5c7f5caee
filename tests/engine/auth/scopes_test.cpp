// The scope catalogue, its implication closure, roles and effective scopes.
#include "nurt/auth/scopes.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace nurt::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Strings = std::vector<std::string>;

TEST(Scopes, CatalogueHoldsTheExactStringsTheApiMapsRoutesTo) {
  EXPECT_THAT(AllScopes(),
              ElementsAre("read:definitions", "definitions:write", "read:instances",
                          "write:instances", "write:events", "read:tasks", "tasks:complete",
                          "admin:override", "keys:manage", "read:audit", "webhooks:manage",
                          "read:schedules", "effects:manage"));
}

TEST(Scopes, ParseSortsAndDeduplicates) {
  auto parsed = ParseScopes({"write:events", "read:tasks", "write:events"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_THAT(*parsed, ElementsAre("read:tasks", "write:events"));
  EXPECT_TRUE(ParseScopes({})->empty());
}

TEST(Scopes, UnknownScopeIsNamedWithASuggestion) {
  auto typo = ParseScopes({"read:tasks", "read:instance"});
  ASSERT_FALSE(typo.ok());
  EXPECT_TRUE(typo.status().IsInvalidArgument());
  EXPECT_THAT(typo.status().message(),
              HasSubstr("unknown scope 'read:instance'; did you mean 'read:instances'?"));
  // The other word order of a scope is recognised too.
  auto swapped = ParseScopes({"write:definitions"});
  EXPECT_THAT(swapped.status().message(), HasSubstr("did you mean 'definitions:write'?"));
  // Nothing close: no suggestion, but the full list.
  auto far = ParseScopes({"launch:rockets"});
  EXPECT_THAT(far.status().message(), ::testing::Not(HasSubstr("did you mean")));
  EXPECT_THAT(far.status().message(), HasSubstr("webhooks:manage"));
}

TEST(Scopes, ImplicationsFollowTheCatalogue) {
  EXPECT_TRUE(ScopeAllows({"definitions:write"}, "read:definitions"));
  EXPECT_TRUE(ScopeAllows({"write:instances"}, "read:instances"));
  EXPECT_TRUE(ScopeAllows({"write:events"}, "read:instances"));
  EXPECT_TRUE(ScopeAllows({"tasks:complete"}, "read:tasks"));
  EXPECT_TRUE(ScopeAllows({"admin:override"}, "read:instances"));
  EXPECT_TRUE(ScopeAllows({"keys:manage"}, "read:audit"));
  EXPECT_TRUE(ScopeAllows({"read:audit"}, "read:audit"));
  // Implication is one way.
  EXPECT_FALSE(ScopeAllows({"read:instances"}, "write:instances"));
  EXPECT_FALSE(ScopeAllows({"read:audit"}, "keys:manage"));
  EXPECT_FALSE(ScopeAllows({"write:events"}, "write:instances"));
  EXPECT_FALSE(ScopeAllows({"admin:override"}, "keys:manage"));
  EXPECT_FALSE(ScopeAllows({}, "read:tasks"));
  EXPECT_FALSE(ScopeAllows({"webhooks:manage"}, "read:definitions"));
}

TEST(Roles, GrantTheirDocumentedScopes) {
  EXPECT_THAT(Roles(), ElementsAre("architect", "installer", "coordinator", "finance", "admin"));
  EXPECT_THAT(*RoleScopes("architect"), ElementsAre("read:definitions", "definitions:write",
                                                    "write:instances", "write:events", "read:schedules"));
  EXPECT_THAT(*RoleScopes("installer"),
              ElementsAre("read:instances", "read:tasks", "tasks:complete", "write:events"));
  EXPECT_THAT(*RoleScopes("coordinator"),
              ElementsAre("read:definitions", "write:instances", "write:events", "tasks:complete",
                          "read:audit", "read:schedules"));
  EXPECT_THAT(*RoleScopes("finance"),
              ElementsAre("read:instances", "read:tasks", "tasks:complete", "write:events"));
  EXPECT_EQ(*RoleScopes("admin"), AllScopes());
}

TEST(Roles, UnknownRoleListsTheRoles) {
  auto r = RoleScopes("accountant");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_THAT(r.status().message(),
              HasSubstr("unknown role 'accountant'; roles are: architect, installer, coordinator, "
                        "finance, admin"));
}

TEST(Roles, EffectiveScopesAreTheUnionOfExplicitAndRole) {
  auto e = EffectiveScopes({"webhooks:manage", "write:events"}, "installer");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_THAT(*e, ElementsAre("read:instances", "read:tasks", "tasks:complete", "webhooks:manage",
                              "write:events"));
  EXPECT_THAT(*EffectiveScopes({"read:audit"}, ""), ElementsAre("read:audit"));
  EXPECT_TRUE(EffectiveScopes({}, "nobody").status().IsInvalidArgument());
}

}  // namespace
}  // namespace nurt::auth
