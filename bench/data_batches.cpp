// The torch side of the data path at scale: PairDataset over a 1,000,000-row CSV, an epoch's
// plan, and the cost of collating one batch of 64 (the trainer pays it every step).
//
//   build/bench/bench_data_batches [FILE]   (default /tmp/s2s_bench_1m.csv; make it with
//                                            bench_data_load or `s2s gen`)
// Prints one JSON line.
#include <fmt/core.h>

#include <chrono>
#include <memory>
#include <string>

#include "s2s/csv.h"
#include "s2s/dataset.h"
#include "s2s/vocab.h"

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "/tmp/s2s_bench_1m.csv";
  auto corpus = std::make_shared<const s2s::Corpus>(s2s::read_pairs_csv(path));
  const s2s::Vocab vocab = s2s::Vocab::from_corpus(*corpus);
  const auto t0 = std::chrono::steady_clock::now();
  auto dataset = std::make_shared<const s2s::PairDataset>(corpus, vocab);
  const double dataset_ms = seconds_since(t0) * 1e3;

  s2s::LoaderOptions options;
  options.batch_size = 64;
  options.seed = 1;
  const s2s::DataLoader loader(dataset, options);
  const auto t1 = std::chrono::steady_clock::now();
  const auto plan = loader.plan(1);
  const double plan_ms = seconds_since(t1) * 1e3;

  const size_t batches = std::min<size_t>(plan.size(), 5000);
  int64_t tokens = 0;
  const auto t2 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < batches; ++i) tokens += loader.batch(plan[i]).src.numel();
  const double batch_us = seconds_since(t2) * 1e6 / static_cast<double>(batches);

  fmt::print(
      "{{\"bench\": \"data_batches\", \"rows\": {}, \"dataset_ms\": {:.1f}, "
      "\"epoch_batches\": {}, \"epoch_plan_ms\": {:.1f}, \"batch64_us\": {:.1f}, "
      "\"checked_tokens\": {}}}\n",
      dataset->rows(), dataset_ms, plan.size(), plan_ms, batch_us, tokens);
  return 0;
}
