#include "nurt/server/logger.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>
#include <vector>

#include "manual_clock.hpp"

namespace nurt::server {
namespace {

TEST(LoggerTest, WritesOneJsonObjectPerLine) {
  std::ostringstream out;
  nurt::testing::ManualClock clock(FromUnixMillis(1'767'225'600'123));
  Logger logger(&out, LogLevel::kInfo, &clock);
  logger.Log(LogLevel::kInfo, "request", {{"method", "GET"}, {"status", 200}, {"msg", "forged"}});
  logger.Log(LogLevel::kDebug, "hidden");
  logger.Log(LogLevel::kError, "plain");
  logger.Log(LogLevel::kWarn, "odd", nurt::Json::array({1}));
  EXPECT_EQ(out.str(),
            "{\"ts\":\"2026-01-01T00:00:00.123Z\",\"level\":\"info\",\"msg\":\"request\",\"method\":\"GET\","
            "\"status\":200}\n"
            "{\"ts\":\"2026-01-01T00:00:00.123Z\",\"level\":\"error\",\"msg\":\"plain\"}\n"
            "{\"ts\":\"2026-01-01T00:00:00.123Z\",\"level\":\"warn\",\"msg\":\"odd\",\"fields\":[1]}\n");
}

TEST(LoggerTest, LinesFromManyThreadsNeverInterleave) {
  std::ostringstream out;
  nurt::testing::ManualClock clock;
  Logger logger(&out, LogLevel::kDebug, &clock);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < 200; ++i) logger.Log(LogLevel::kInfo, "x", {{"t", t}, {"pad", std::string(100, 'p')}});
    });
  }
  for (auto& thread : threads) thread.join();
  std::istringstream in(out.str());
  int lines = 0;
  for (std::string line; std::getline(in, line); ++lines) {
    ASSERT_TRUE(nurt::Json::accept(line)) << line;
  }
  EXPECT_EQ(lines, 800);
}

TEST(LoggerTest, ParsesLevels) {
  EXPECT_EQ(ParseLogLevel("debug").value(), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("INFO").value(), LogLevel::kInfo);
  EXPECT_EQ(ParseLogLevel("warn").value(), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("error").value(), LogLevel::kError);
  auto bad = ParseLogLevel("verbose");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_EQ(bad.status().message(), "unknown log level 'verbose'; use one of debug, info, warn, error");
}

}  // namespace
}  // namespace nurt::server
