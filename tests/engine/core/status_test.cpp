#include "nurt/core/status.hpp"

#include <gtest/gtest.h>

#include "nurt/core/json.hpp"
#include "nurt/core/result.hpp"
#include "nurt/core/time.hpp"

namespace nurt {
namespace {

TEST(StatusTest, OkByDefaultAndNamedFactoriesCarryCodeAndMessage) {
  EXPECT_TRUE(Status().ok());
  Status s = Status::NotFound("instance 'x' does not exist");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_EQ(s.ToString(), "not found: instance 'x' does not exist");
  EXPECT_EQ(s.WithContext("nurt show").message(), "nurt show: instance 'x' does not exist");
}

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  int h = 0;
  NURT_ASSIGN_OR_RETURN(h, Half(x));
  return Half(h);
}

TEST(ResultTest, PropagatesErrorsAndValues) {
  EXPECT_EQ(Quarter(8).value(), 2);
  EXPECT_TRUE(Quarter(6).status().IsInvalidArgument());
}

TEST(JsonTest, CanonicalFormSortsKeysAndParseErrorsSayWhere) {
  Json a = Json::parse(R"({"b":1,"a":{"d":[1,2],"c":null}})");
  EXPECT_EQ(CanonicalJson(a), R"({"a":{"c":null,"d":[1,2]},"b":1})");
  auto bad = ParseJson("{\"a\": }", "--data");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--data is not valid JSON"), std::string::npos);
  EXPECT_NE(bad.status().message().find("column 7"), std::string::npos);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TimeTest, Iso8601RoundTripsAndHonoursOffsets) {
  auto t = ParseIso8601("2026-11-23T09:35:44.123Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatIso8601(*t), "2026-11-23T09:35:44.123Z");
  auto warsaw = ParseIso8601("2026-11-23T10:35:44+01:00");
  ASSERT_TRUE(warsaw.ok());
  EXPECT_EQ(FormatIso8601(*warsaw), "2026-11-23T09:35:44.000Z");
  EXPECT_EQ(FormatIso8601(FromUnixMillis(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_FALSE(ParseIso8601("2026-11-23 09:35").ok());
  EXPECT_FALSE(ParseIso8601("2026-11-23T09:35:44").ok());  // no zone
}

}  // namespace
}  // namespace nurt
