#include "nurt/server/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

namespace nurt::server {
namespace {

TEST(MetricsTest, RendersTheTextFormatExactly) {
  MetricsRegistry registry;
  auto& requests = registry.counter_family("http_requests_total", "Requests.\nSecond \\ line.", {"method", "path"});
  requests.With({{"path", "/b"}, {"method", "GET"}}).Inc();
  requests.With({{"method", "GET"}, {"path", "/a \"q\"\\\n"}}).Inc(2.5);
  registry.gauge("a_gauge", "A gauge.").Set(-3);
  auto& latency = registry.histogram("latency_seconds", "Latency.", {{"route", "/x"}}, {0.1, 1, 2.5});
  latency.Observe(0.05);
  latency.Observe(0.1);  // bounds are inclusive
  latency.Observe(2);
  latency.Observe(30);
  registry.AddCollector([](MetricsWriter& writer) {
    writer.Family("instances", "Instances by state.", MetricType::kGauge);
    writer.Sample({{"state", "running"}}, 4);
    writer.Sample({{"state", "done"}}, 0);
  });

  EXPECT_EQ(registry.Render(),
            "# HELP a_gauge A gauge.\n"
            "# TYPE a_gauge gauge\n"
            "a_gauge -3\n"
            "# HELP http_requests_total Requests.\\nSecond \\\\ line.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{method=\"GET\",path=\"/a \\\"q\\\"\\\\\\n\"} 2.5\n"
            "http_requests_total{method=\"GET\",path=\"/b\"} 1\n"
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
            "latency_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"
            "latency_seconds_bucket{route=\"/x\",le=\"2.5\"} 3\n"
            "latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{route=\"/x\"} 32.15\n"
            "latency_seconds_count{route=\"/x\"} 4\n"
            "# HELP instances Instances by state.\n"
            "# TYPE instances gauge\n"
            "instances{state=\"running\"} 4\n"
            "instances{state=\"done\"} 0\n");
}

TEST(MetricsTest, SameNameGivesTheSameSeries) {
  MetricsRegistry registry;
  registry.counter("c_total", "C.", {{"a", "1"}, {"b", "2"}}).Inc();
  registry.counter("c_total", "C.", {{"b", "2"}, {"a", "1"}}).Inc();
  EXPECT_EQ(registry.counter_family("c_total", "C.", {"a", "b"}).With({{"a", "1"}, {"b", "2"}}).Value(), 2);
  Gauge& gauge = registry.gauge("g", "G.");
  gauge.Inc(5);
  gauge.Dec(2);
  EXPECT_EQ(registry.gauge("g", "G.").Value(), 3);
}

TEST(MetricsTest, SpecialValues) {
  MetricsRegistry registry;
  registry.gauge("inf", "I.").Set(std::numeric_limits<double>::infinity());
  registry.gauge("nan", "N.").Set(std::nan(""));
  registry.gauge("big", "B.").Set(1e21);
  EXPECT_EQ(registry.Render(),
            "# HELP big B.\n# TYPE big gauge\nbig 1e+21\n"
            "# HELP inf I.\n# TYPE inf gauge\ninf +Inf\n"
            "# HELP nan N.\n# TYPE nan gauge\nnan NaN\n");
}

TEST(MetricsTest, CountsFromManyThreads) {
  MetricsRegistry registry;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&registry] {
      for (int i = 0; i < 1000; ++i) {
        registry.counter("hits_total", "Hits.", {{"k", "v"}}).Inc();
        registry.histogram("h", "H.", {}, {1}).Observe(0.5);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(registry.counter("hits_total", "Hits.", {{"k", "v"}}).Value(), 4000);
  EXPECT_EQ(registry.histogram("h", "H.", {}, {1}).Read().count, 4000u);
}

TEST(MetricsDeathTest, MisuseIsABug) {
  MetricsRegistry registry;
  registry.counter_family("x_total", "X.", {"a"});
  EXPECT_DEATH(registry.gauge_family("x_total", "X.", {"a"}), "registered again");
  EXPECT_DEATH(registry.counter_family("x_total", "X.", {"a"}).With({{"b", "1"}}), "no label b");
  EXPECT_DEATH(registry.counter("bad-name", "X."), "invalid metric name");
  EXPECT_DEATH(registry.histogram("h", "H.", {}, {2, 1}), "strictly increasing");
}

}  // namespace
}  // namespace nurt::server
