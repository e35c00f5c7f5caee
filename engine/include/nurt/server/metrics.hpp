#pragma once
// nurt::server::MetricsRegistry — counters, gauges and histograms rendered as Prometheus text (0.0.4).
//
// A metric is a family (name, help, type, label names) of time series, one per label-value combination:
//
//   auto& requests = registry.counter_family("nurt_http_requests_total", "HTTP requests answered.",
//                                            {"method", "route", "status"});
//   requests.With({{"method", "GET"}, {"route", "/v1/x"}, {"status", "200"}}).Inc();
//   registry.counter("nurt_started_total", "Starts.").Inc();          // unlabelled: one series
//   registry.gauge("nurt_up", "Up.", {{"role", "api"}}).Set(1);       // same as gauge_family(..).With(..)
//
// Getting a family twice returns the same object; the references returned stay valid for the registry's
// lifetime, so hot paths look a series up once and keep the reference. Values computed at scrape time
// (e.g. instances by state from the store) come from collectors added with AddCollector().
//
// Render() output: families sorted by name, then collector output in the order collectors were added;
// within a family, series sorted by label values; label values escaped (\\ \" \n); numbers in the
// shortest form that round-trips ("1", "0.25", "+Inf", "NaN"); histograms as cumulative
// `_bucket{le="..."}` lines ending with le="+Inf", then `_sum` and `_count`.
//
// Thread-safety: everything may be called from any thread. Misuse — an invalid metric or label name,
// the same name registered with another type/label set/buckets, With() with other label names — is a
// bug and stops the process (NURT_ASSERT).

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nurt::server {

// Label (name, value) pairs; order does not matter.
using Labels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kCounter, kGauge, kHistogram };

class Counter {
 public:
  // REQUIRES: by >= 0 (counters only go up).
  void Inc(double by = 1);
  double Value() const { return value_.load(); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value); }
  void Inc(double by = 1);
  void Dec(double by = 1) { Inc(-by); }
  double Value() const { return value_.load(); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // REQUIRES: `upper_bounds` strictly increasing; +Inf is implicit (do not list it).
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative_counts;  // one per bound, then the +Inf bucket
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot Read() const;

 private:
  std::vector<double> upper_bounds_;
  mutable std::mutex mu_;
  std::vector<std::uint64_t> bucket_counts_;  // GUARDED_BY(mu_); non-cumulative, last = +Inf
  double sum_ = 0;                            // GUARDED_BY(mu_)
  std::uint64_t count_ = 0;                   // GUARDED_BY(mu_)
};

// The default buckets for request durations in seconds (5 ms … 10 s).
std::vector<double> DefaultDurationBuckets();

class MetricsRegistry;

// The series of one metric family. Metric is Counter, Gauge or Histogram.
template <typename Metric>
class MetricFamily {
 public:
  // The series with these label values (created at 0 on first use). REQUIRES: exactly the family's
  // label names, each once.
  Metric& With(const Labels& labels);

 private:
  friend class MetricsRegistry;
  MetricFamily(std::string name, std::string help, std::vector<std::string> label_names,
               std::vector<double> buckets);
  void Render(std::string& out) const;

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;  // histograms only
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_;  // GUARDED_BY(mu_)
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

// What a collector writes at scrape time, straight into the exposition text.
class MetricsWriter {
 public:
  // Starts a family (HELP and TYPE lines); the Sample() calls that follow belong to it.
  // REQUIRES: a valid metric name not used by a registered family; type counter or gauge.
  void Family(std::string_view name, std::string_view help, MetricType type);
  // REQUIRES: Family() called before.
  void Sample(const Labels& labels, double value);

 private:
  friend class MetricsRegistry;
  explicit MetricsWriter(std::string* out) : out_(out) {}
  std::string* out_;
  std::string family_;
};

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  CounterFamily& counter_family(std::string_view name, std::string_view help,
                                std::vector<std::string> label_names = {});
  GaugeFamily& gauge_family(std::string_view name, std::string_view help,
                            std::vector<std::string> label_names = {});
  HistogramFamily& histogram_family(std::string_view name, std::string_view help,
                                    std::vector<std::string> label_names, std::vector<double> buckets);

  // Shorthands: the family named `name` (label names taken from `labels`), then With(labels).
  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, const Labels& labels,
                       std::vector<double> buckets);

  // `collect` runs on the scraping thread during every Render(); it must not call into this registry.
  void AddCollector(std::function<void(MetricsWriter&)> collect);

  // The whole exposition (text format 0.0.4), ending with a newline when not empty.
  std::string Render() const;

 private:
  struct Entry;
  Entry& GetOrAdd(std::string_view name, std::string_view help, MetricType type,
                  std::vector<std::string> label_names, std::vector<double> buckets);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> families_;  // GUARDED_BY(mu_)
  std::vector<std::function<void(MetricsWriter&)>> collectors_;         // GUARDED_BY(mu_)
};

}  // namespace nurt::server
