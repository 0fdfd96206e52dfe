// The Prometheus exposition: cumulative histogram buckets, counters by label, gauges read at
// scrape time.
#include <gtest/gtest.h>

#include "serve/metrics.h"

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Histogram, BucketsAreCumulativeWithSumAndCount) {
  s2s::serve::Histogram h({1, 2, 4});
  for (double v : {0.5, 1.0, 3.0, 3.5, 9.0}) h.observe(v);
  std::string out;
  h.render(out, "x", "model=\"m\"");
  EXPECT_EQ(out,
            "x_bucket{model=\"m\",le=\"1\"} 2\n"
            "x_bucket{model=\"m\",le=\"2\"} 2\n"
            "x_bucket{model=\"m\",le=\"4\"} 4\n"
            "x_bucket{model=\"m\",le=\"+Inf\"} 5\n"
            "x_sum{model=\"m\"} 17\n"
            "x_count{model=\"m\"} 5\n");
}

TEST(ServeMetrics, RendersCountersHistogramsAndQueueDepth) {
  s2s::serve::ServeMetrics m({"a", "b"});
  m.count_request("translate", 200);
  m.count_request("translate", 200);
  m.count_request("translate", 503);
  m.count_admitted("a", 3, 12, 2);
  s2s::serve::BatchRecord batch;
  batch.sentences = 3;
  batch.compute_seconds = 0.002;
  batch.queue_wait_seconds = {0.001, 0.001, 0.0001};
  batch.output_tokens = 9;
  m.record_batch("a", batch);
  m.count_reload("b", false);
  const std::string text =
      m.render([](const std::string& model) { return model == "a" ? 7 : 0; }, true);
  for (const char* line : {
           "s2s_ready 1",
           "s2s_http_requests_total{endpoint=\"translate\",code=\"200\"} 2",
           "s2s_http_requests_total{endpoint=\"translate\",code=\"503\"} 1",
           "s2s_sentences_total{model=\"a\"} 3",
           "s2s_sentences_total{model=\"b\"} 0",
           "s2s_input_tokens_total{model=\"a\"} 12",
           "s2s_unknown_tokens_total{model=\"a\"} 2",
           "s2s_output_tokens_total{model=\"a\"} 9",
           "s2s_batches_total{model=\"a\"} 1",
           "s2s_queue_depth{model=\"a\"} 7",
           "s2s_model_reloads_total{model=\"b\",result=\"failed\"} 1",
           "s2s_batch_size_sentences_bucket{model=\"a\",le=\"2\"} 0",
           "s2s_batch_size_sentences_bucket{model=\"a\",le=\"4\"} 1",
           "s2s_queue_wait_seconds_bucket{model=\"a\",le=\"0.0001\"} 1",
           "s2s_queue_wait_seconds_count{model=\"a\"} 3",
           "s2s_compute_seconds_sum{model=\"a\"} 0.002",
           "# TYPE s2s_compute_seconds histogram",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line << "\n" << text;
  }
}

}  // namespace
