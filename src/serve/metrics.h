// The server's numbers, rendered in the Prometheus text exposition format (version 0.0.4) for
// GET /metrics. Thread-safe: HTTP threads and batcher threads record, a scrape reads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace s2s::serve {

// Cumulative buckets as Prometheus wants them: counts[i] observations <= bounds[i], the last
// count is +Inf. Not locked itself: ServeMetrics' mutex guards it.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  // name_bucket{labels,le="..."} lines, then name_sum and name_count.
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; one more than bounds_
  double sum_ = 0;
  uint64_t count_ = 0;
};

struct BatchRecord {
  int64_t sentences = 0;
  double compute_seconds = 0;
  std::vector<double> queue_wait_seconds;  // one per sentence
  int64_t output_tokens = 0;
};

class ServeMetrics {
 public:
  explicit ServeMetrics(std::vector<std::string> model_names);

  // One answered HTTP request: endpoint is a route name ("translate", "models", ...).
  void count_request(const std::string& endpoint, int status);
  // One translate request admitted for decoding, and how long it took when it ends (any status).
  void count_admitted(const std::string& model, int64_t sentences, int64_t input_tokens,
                      int64_t unknown_tokens);
  void observe_request_seconds(const std::string& model, double seconds);
  void record_batch(const std::string& model, const BatchRecord& batch);
  void count_reload(const std::string& model, bool ok);

  // The whole exposition; queue_depth(model) and ready are read at the moment of the scrape.
  std::string render(const std::function<int64_t(const std::string&)>& queue_depth,
                     bool ready) const;

 private:
  struct PerModel {
    uint64_t requests = 0, sentences = 0, input_tokens = 0, unknown_tokens = 0;
    uint64_t output_tokens = 0, batches = 0, reloads_ok = 0, reloads_failed = 0;
    Histogram batch_size, queue_wait, compute, request;
    PerModel();
  };
  mutable std::mutex mutex_;
  std::vector<std::string> names_;  // in the order given, for a stable exposition
  std::map<std::string, PerModel> models_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (endpoint, status) -> count
};

}  // namespace s2s::serve
