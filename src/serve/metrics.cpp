#include "serve/metrics.h"

#include <fmt/core.h>

#include <algorithm>

namespace s2s::serve {
namespace {

// Seconds: from a tenth of a millisecond (a tiny model's batch) to ten seconds (a deadline).
std::vector<double> seconds_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

// Sentences per batch: powers of two up to the largest --max-batch anyone is likely to use.
std::vector<double> batch_buckets() {
  return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
}

// Prometheus floats: shortest round-trip form, +Inf spelled its way.
std::string number(double v) {
  return fmt::format("{}", v);
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  ++counts_[static_cast<size_t>(at)];
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, number(bounds_[i]),
                       cumulative);
  }
  out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, count_);
  out += fmt::format("{}_sum{{{}}} {}\n", name, labels, number(sum_));
  out += fmt::format("{}_count{{{}}} {}\n", name, labels, count_);
}

ServeMetrics::PerModel::PerModel()
    : batch_size(batch_buckets()),
      queue_wait(seconds_buckets()),
      compute(seconds_buckets()),
      request(seconds_buckets()) {}

ServeMetrics::ServeMetrics(std::vector<std::string> model_names) : names_(std::move(model_names)) {
  for (const auto& name : names_) models_[name];
}

void ServeMetrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{endpoint, status}];
}

void ServeMetrics::count_admitted(const std::string& model, int64_t sentences, int64_t input_tokens,
                                  int64_t unknown_tokens) {
  std::lock_guard<std::mutex> lock(mutex_);
  PerModel& m = models_.at(model);
  ++m.requests;
  m.sentences += static_cast<uint64_t>(sentences);
  m.input_tokens += static_cast<uint64_t>(input_tokens);
  m.unknown_tokens += static_cast<uint64_t>(unknown_tokens);
}

void ServeMetrics::observe_request_seconds(const std::string& model, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  models_.at(model).request.observe(seconds);
}

void ServeMetrics::record_batch(const std::string& model, const BatchRecord& batch) {
  std::lock_guard<std::mutex> lock(mutex_);
  PerModel& m = models_.at(model);
  ++m.batches;
  m.output_tokens += static_cast<uint64_t>(batch.output_tokens);
  m.batch_size.observe(static_cast<double>(batch.sentences));
  m.compute.observe(batch.compute_seconds);
  for (double wait : batch.queue_wait_seconds) m.queue_wait.observe(wait);
}

void ServeMetrics::count_reload(const std::string& model, bool ok) {
  std::lock_guard<std::mutex> lock(mutex_);
  PerModel& m = models_.at(model);
  ++(ok ? m.reloads_ok : m.reloads_failed);
}

std::string ServeMetrics::render(const std::function<int64_t(const std::string&)>& queue_depth,
                                 bool ready) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  header(out, "s2s_ready", "gauge",
         "1 while every model is loaded and the server is not draining.");
  out += fmt::format("s2s_ready {}\n", ready ? 1 : 0);
  header(out, "s2s_http_requests_total", "counter",
         "HTTP requests answered, by endpoint and status.");
  for (const auto& [key, count] : requests_) {
    out += fmt::format("s2s_http_requests_total{{endpoint=\"{}\",code=\"{}\"}} {}\n", key.first,
                       key.second, count);
  }
  const auto per_model = [&](const char* name, const char* type, const char* help, auto&& value) {
    header(out, name, type, help);
    for (const auto& model : names_) {
      out += fmt::format("{}{{model=\"{}\"}} {}\n", name, model, value(models_.at(model), model));
    }
  };
  per_model("s2s_translate_requests_total", "counter",
            "Translate requests admitted to a model's queue.",
            [](const PerModel& m, const std::string&) { return m.requests; });
  per_model("s2s_sentences_total", "counter", "Sentences admitted for decoding.",
            [](const PerModel& m, const std::string&) { return m.sentences; });
  per_model("s2s_input_tokens_total", "counter", "Source tokens admitted for decoding.",
            [](const PerModel& m, const std::string&) { return m.input_tokens; });
  per_model("s2s_unknown_tokens_total", "counter",
            "Source tokens not in the model's vocabulary (decoded as <unk>).",
            [](const PerModel& m, const std::string&) { return m.unknown_tokens; });
  per_model("s2s_output_tokens_total", "counter", "Tokens of the best hypotheses decoded.",
            [](const PerModel& m, const std::string&) { return m.output_tokens; });
  per_model("s2s_batches_total", "counter", "Batches decoded.",
            [](const PerModel& m, const std::string&) { return m.batches; });
  per_model("s2s_queue_depth", "gauge", "Sentences waiting in the model's queue.",
            [&](const PerModel&, const std::string& model) { return queue_depth(model); });
  header(out, "s2s_model_reloads_total", "counter", "Model reloads, by result.");
  for (const auto& model : names_) {
    const PerModel& m = models_.at(model);
    out += fmt::format("s2s_model_reloads_total{{model=\"{}\",result=\"ok\"}} {}\n", model,
                       m.reloads_ok);
    out += fmt::format("s2s_model_reloads_total{{model=\"{}\",result=\"failed\"}} {}\n", model,
                       m.reloads_failed);
  }
  const auto histograms = [&](const char* name, const char* help, auto member) {
    header(out, name, "histogram", help);
    for (const auto& model : names_) {
      (models_.at(model).*member).render(out, name, fmt::format("model=\"{}\"", model));
    }
  };
  histograms("s2s_batch_size_sentences", "Sentences per decoded batch.", &PerModel::batch_size);
  histograms("s2s_queue_wait_seconds", "Time a sentence waited in the queue before its batch.",
             &PerModel::queue_wait);
  histograms("s2s_compute_seconds", "Time to decode one batch.", &PerModel::compute);
  histograms("s2s_request_seconds", "Translate requests, admission to answer (any status).",
             &PerModel::request);
  return out;
}

}  // namespace s2s::serve
