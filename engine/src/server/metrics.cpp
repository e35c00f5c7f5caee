#include "nurt/server/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "nurt/core/assert.hpp"

namespace nurt::server {
namespace {

bool IsMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsLabelName(std::string_view name) {
  return IsMetricName(name) && name.find(':') == std::string_view::npos && !name.starts_with("__");
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

// Prometheus numbers: Go's strconv.FormatFloat(v, 'g', -1, 64) shape, "+Inf"/"-Inf"/"NaN".
std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  NURT_ASSERT(ec == std::errc(), "to_chars failed on a double");
  return std::string(buffer, end);
}

void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
}

void AppendHeader(std::string& out, std::string_view name, std::string_view help, MetricType type) {
  out += "# HELP ";
  out += name;
  out.push_back(' ');
  AppendEscaped(out, help, false);
  out += "\n# TYPE ";
  out += name;
  out.push_back(' ');
  out += TypeName(type);
  out.push_back('\n');
}

// name{a="1",b="2"} value — `extra` is one more label appended last (the histogram's `le`).
void AppendSample(std::string& out, std::string_view name, const std::vector<std::string>& label_names,
                  const std::vector<std::string>& label_values, const std::pair<std::string, std::string>* extra,
                  double value) {
  out += name;
  if (!label_names.empty() || extra != nullptr) {
    out.push_back('{');
    bool first = true;
    auto append_label = [&](std::string_view label, std::string_view label_value) {
      if (!first) out.push_back(',');
      first = false;
      out += label;
      out += "=\"";
      AppendEscaped(out, label_value, true);
      out.push_back('"');
    };
    for (std::size_t i = 0; i < label_names.size(); ++i) append_label(label_names[i], label_values[i]);
    if (extra != nullptr) append_label(extra->first, extra->second);
    out.push_back('}');
  }
  out.push_back(' ');
  out += FormatValue(value);
  out.push_back('\n');
}

template <typename Metric>
std::unique_ptr<Metric> MakeMetric(const std::vector<double>& /*buckets*/) {
  return std::make_unique<Metric>();
}
template <>
std::unique_ptr<Histogram> MakeMetric<Histogram>(const std::vector<double>& buckets) {
  return std::make_unique<Histogram>(buckets);
}

template <typename Metric>
constexpr MetricType TypeOf();
template <>
constexpr MetricType TypeOf<Counter>() { return MetricType::kCounter; }
template <>
constexpr MetricType TypeOf<Gauge>() { return MetricType::kGauge; }
template <>
constexpr MetricType TypeOf<Histogram>() { return MetricType::kHistogram; }

void RenderSeries(std::string& out, std::string_view name, const std::vector<std::string>& label_names,
                  const std::vector<std::string>& values, const Counter& metric) {
  AppendSample(out, name, label_names, values, nullptr, metric.Value());
}
void RenderSeries(std::string& out, std::string_view name, const std::vector<std::string>& label_names,
                  const std::vector<std::string>& values, const Gauge& metric) {
  AppendSample(out, name, label_names, values, nullptr, metric.Value());
}
void RenderSeries(std::string& out, std::string_view name, const std::vector<std::string>& label_names,
                  const std::vector<std::string>& values, const Histogram& metric) {
  Histogram::Snapshot snapshot = metric.Read();
  std::string bucket_name = std::string(name) + "_bucket";
  for (std::size_t i = 0; i <= snapshot.upper_bounds.size(); ++i) {
    std::pair<std::string, std::string> le{
        "le", i < snapshot.upper_bounds.size() ? FormatValue(snapshot.upper_bounds[i]) : "+Inf"};
    AppendSample(out, bucket_name, label_names, values, &le,
                 static_cast<double>(snapshot.cumulative_counts[i]));
  }
  AppendSample(out, std::string(name) + "_sum", label_names, values, nullptr, snapshot.sum);
  AppendSample(out, std::string(name) + "_count", label_names, values, nullptr,
               static_cast<double>(snapshot.count));
}

}  // namespace

void Counter::Inc(double by) {
  NURT_ASSERT(by >= 0, "a counter only goes up");
  value_.fetch_add(by);
}

void Gauge::Inc(double by) { value_.fetch_add(by); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), bucket_counts_(upper_bounds_.size() + 1, 0) {
  for (std::size_t i = 0; i < upper_bounds_.size(); ++i) {
    NURT_ASSERT(std::isfinite(upper_bounds_[i]) && (i == 0 || upper_bounds_[i - 1] < upper_bounds_[i]),
                "histogram buckets must be finite and strictly increasing (+Inf is implicit)");
  }
}

void Histogram::Observe(double value) {
  std::size_t bucket =
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  std::lock_guard<std::mutex> lock(mu_);
  ++bucket_counts_[bucket];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  std::lock_guard<std::mutex> lock(mu_);
  std::uint64_t running = 0;
  for (std::uint64_t count : bucket_counts_) {
    running += count;
    snapshot.cumulative_counts.push_back(running);
  }
  snapshot.sum = sum_;
  snapshot.count = count_;
  return snapshot;
}

std::vector<double> DefaultDurationBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

template <typename Metric>
MetricFamily<Metric>::MetricFamily(std::string name, std::string help, std::vector<std::string> label_names,
                                   std::vector<double> buckets)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      buckets_(std::move(buckets)) {}

template <typename Metric>
Metric& MetricFamily<Metric>::With(const Labels& labels) {
  NURT_ASSERT(labels.size() == label_names_.size(),
              "metric " + name_ + " takes " + std::to_string(label_names_.size()) + " labels, got " +
                  std::to_string(labels.size()));
  std::vector<std::string> values(label_names_.size());
  std::vector<bool> seen(label_names_.size(), false);
  for (const auto& [label, value] : labels) {
    auto it = std::find(label_names_.begin(), label_names_.end(), label);
    NURT_ASSERT(it != label_names_.end(), "metric " + name_ + " has no label " + label);
    std::size_t index = it - label_names_.begin();
    NURT_ASSERT(!seen[index], "metric " + name_ + ": label " + label + " given twice");
    seen[index] = true;
    values[index] = value;
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::unique_ptr<Metric>& slot = series_[values];
  if (!slot) slot = MakeMetric<Metric>(buckets_);
  return *slot;
}

template <typename Metric>
void MetricFamily<Metric>::Render(std::string& out) const {
  AppendHeader(out, name_, help_, TypeOf<Metric>());
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, metric] : series_) RenderSeries(out, name_, label_names_, values, *metric);
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

void MetricsWriter::Family(std::string_view name, std::string_view help, MetricType type) {
  NURT_ASSERT(IsMetricName(name), "invalid metric name '" + std::string(name) + "'");
  NURT_ASSERT(type != MetricType::kHistogram, "collectors write counters and gauges only");
  family_ = std::string(name);
  AppendHeader(*out_, name, help, type);
}

void MetricsWriter::Sample(const Labels& labels, double value) {
  NURT_ASSERT(!family_.empty(), "MetricsWriter::Sample before Family");
  std::vector<std::string> names;
  std::vector<std::string> values;
  for (const auto& [label, label_value] : labels) {
    NURT_ASSERT(IsLabelName(label), "invalid label name '" + label + "' on " + family_);
    names.push_back(label);
    values.push_back(label_value);
  }
  AppendSample(*out_, family_, names, values, nullptr, value);
}

struct MetricsRegistry::Entry {
  MetricType type;
  std::vector<std::string> label_names;
  std::vector<double> buckets;
  std::unique_ptr<CounterFamily> counters;
  std::unique_ptr<GaugeFamily> gauges;
  std::unique_ptr<HistogramFamily> histograms;
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Entry& MetricsRegistry::GetOrAdd(std::string_view name, std::string_view help,
                                                  MetricType type, std::vector<std::string> label_names,
                                                  std::vector<double> buckets) {
  NURT_ASSERT(IsMetricName(name), "invalid metric name '" + std::string(name) + "'");
  std::set<std::string> unique;
  for (const std::string& label : label_names) {
    NURT_ASSERT(IsLabelName(label) && (type != MetricType::kHistogram || label != "le"),
                "invalid label name '" + label + "' on metric " + std::string(name));
    NURT_ASSERT(unique.insert(label).second, "label " + label + " repeated on metric " + std::string(name));
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    Entry& entry = *it->second;
    // Label order does not matter (the shorthands take names in the order a caller lists them).
    bool same_labels = entry.label_names.size() == label_names.size() &&
                       std::is_permutation(entry.label_names.begin(), entry.label_names.end(),
                                           label_names.begin());
    NURT_ASSERT(entry.type == type && same_labels && entry.buckets == buckets,
                "metric " + std::string(name) + " registered again with another type, labels or buckets");
    return entry;
  }
  auto entry = std::make_unique<Entry>();
  entry->type = type;
  entry->label_names = label_names;
  entry->buckets = buckets;
  std::string name_text(name);
  std::string help_text(help);
  switch (type) {
    case MetricType::kCounter:
      entry->counters.reset(new CounterFamily(name_text, help_text, std::move(label_names), {}));
      break;
    case MetricType::kGauge:
      entry->gauges.reset(new GaugeFamily(name_text, help_text, std::move(label_names), {}));
      break;
    case MetricType::kHistogram:
      entry->histograms.reset(
          new HistogramFamily(name_text, help_text, std::move(label_names), std::move(buckets)));
      break;
  }
  Entry& result = *entry;
  families_.emplace(std::move(name_text), std::move(entry));
  return result;
}

CounterFamily& MetricsRegistry::counter_family(std::string_view name, std::string_view help,
                                               std::vector<std::string> label_names) {
  return *GetOrAdd(name, help, MetricType::kCounter, std::move(label_names), {}).counters;
}

GaugeFamily& MetricsRegistry::gauge_family(std::string_view name, std::string_view help,
                                           std::vector<std::string> label_names) {
  return *GetOrAdd(name, help, MetricType::kGauge, std::move(label_names), {}).gauges;
}

HistogramFamily& MetricsRegistry::histogram_family(std::string_view name, std::string_view help,
                                                   std::vector<std::string> label_names,
                                                   std::vector<double> buckets) {
  Histogram check(buckets);  // validates the bounds before they are registered
  (void)check;
  return *GetOrAdd(name, help, MetricType::kHistogram, std::move(label_names), std::move(buckets)).histograms;
}

namespace {
std::vector<std::string> NamesOf(const Labels& labels) {
  std::vector<std::string> names;
  for (const auto& label : labels) names.push_back(label.first);
  return names;
}
}  // namespace

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  return counter_family(name, help, NamesOf(labels)).With(labels);
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  return gauge_family(name, help, NamesOf(labels)).With(labels);
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help, const Labels& labels,
                                      std::vector<double> buckets) {
  return histogram_family(name, help, NamesOf(labels), std::move(buckets)).With(labels);
}

void MetricsRegistry::AddCollector(std::function<void(MetricsWriter&)> collect) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collect));
}

std::string MetricsRegistry::Render() const {
  std::vector<const Entry*> entries;
  std::vector<std::function<void(MetricsWriter&)>> collectors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, entry] : families_) entries.push_back(entry.get());
    collectors = collectors_;
  }
  std::string out;
  for (const Entry* entry : entries) {
    if (entry->counters) entry->counters->Render(out);
    if (entry->gauges) entry->gauges->Render(out);
    if (entry->histograms) entry->histograms->Render(out);
  }
  MetricsWriter writer(&out);
  for (const auto& collect : collectors) collect(writer);
  return out;
}

}  // namespace nurt::server
