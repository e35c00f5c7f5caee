// MaskSecrets: what the integration log keeps of a body.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nurt/effects/adapter.hpp"

namespace nurt::effects {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MaskSecrets, JsonKeysAnywhereInTheDocument) {
  const std::string masked = MaskSecrets(
      R"({"user":"anna","password":"hunter2","auth":{"access_token":"abc","Api-Key":"k1"},)"
      R"("items":[{"client_secret":"s"}],"count":3,"tokens":["a","b"]})");
  EXPECT_THAT(masked, HasSubstr(R"("user":"anna")"));
  EXPECT_THAT(masked, HasSubstr(R"("password":"***")"));
  EXPECT_THAT(masked, HasSubstr(R"("access_token":"***")"));
  EXPECT_THAT(masked, HasSubstr(R"("Api-Key":"***")"));
  EXPECT_THAT(masked, HasSubstr(R"("client_secret":"***")"));
  EXPECT_THAT(masked, HasSubstr(R"("count":3)"));
  // A list under a secret-looking key is walked, not replaced whole (its strings are not keys).
  EXPECT_THAT(masked, HasSubstr(R"("tokens":["a","b"])"));
  for (const char* secret : {"hunter2", "\"abc\"", "k1", "\"s\""}) EXPECT_THAT(masked, Not(HasSubstr(secret)));
}

TEST(MaskSecrets, PairsInOtherText) {
  EXPECT_EQ(MaskSecrets("user=anna&password=hunter2&x=1"), "user=anna&password=\"***\"&x=1");
  EXPECT_EQ(MaskSecrets("Authorization: Bearer abc"), "Authorization: \"***\"");
  EXPECT_EQ(MaskSecrets("nothing to hide"), "nothing to hide");
  EXPECT_EQ(MaskSecrets(""), "");
}

}  // namespace
}  // namespace nurt::effects
