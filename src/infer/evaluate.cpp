// evaluate_file (include/s2s/decode.h): validation's numbers, then the error rates of the
// search's hypotheses, one per distinct source, against all of that source's targets.
#include <fmt/core.h>

#include <limits>
#include <memory>
#include <string>
#include <unordered_map>

#include "infer/search_sources.h"
#include "s2s/csv.h"
#include "s2s/dataset.h"
#include "s2s/decode.h"
#include "s2s/error.h"
#include "s2s/runtime.h"
#include "train/scoring.h"

namespace s2s {
namespace {

// Rows grouped by source (the same token sequence), groups in order of first appearance.
std::vector<std::vector<size_t>> rows_by_source(const Corpus& corpus) {
  std::unordered_map<std::string, size_t> group_of;
  std::vector<std::vector<size_t>> groups;
  for (size_t row = 0; row < corpus.size(); ++row) {
    const TokenSpan s = corpus.source(row);
    std::string key(reinterpret_cast<const char*>(s.ids), s.size() * sizeof(int32_t));
    const auto [it, added] = group_of.emplace(std::move(key), groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(row);
  }
  return groups;
}

}  // namespace

EvalReport evaluate_file(const std::string& model_path, const std::string& data_path,
                         const EvalOptions& options) {
  return evaluate_file(std::vector<std::string>{model_path}, data_path, options);
}

EvalReport evaluate_file(const std::vector<std::string>& model_paths, const std::string& data_path,
                         const EvalOptions& options) {
  if (options.batch < 1) throw Error(fmt::format("--batch must be >= 1, got {}", options.batch));
  options.search.check();
  RuntimeOptions runtime;
  runtime.threads = options.threads;
  configure_runtime(runtime);
  LoadedModels loaded = load_models(model_paths, options.precision);
  auto corpus = std::make_shared<const Corpus>(read_pairs_csv(data_path));
  auto dataset = std::make_shared<const PairDataset>(corpus, loaded.vocab);
  const UnknownTokens& unknown = dataset->unknown();
  if (unknown.tokens > 0 && static_cast<size_t>(unknown.tokens) == corpus->total_tokens()) {
    throw Error(data_path + ": none of its tokens are in the vocabulary of " + model_paths.front());
  }
  EvalReport r;
  r.models = static_cast<int64_t>(loaded.models.size());
  r.rows = static_cast<int64_t>(dataset->rows());
  r.unknown_tokens = unknown.tokens;
  r.unknown_rows = unknown.rows;
  r.unknown_note = unknown.describe();
  if (r.models == 1) {
    LoaderOptions loader;
    loader.batch_size = options.batch;
    loader.shuffle = false;
    loader.bucket_by_length = true;  // less padding; the sums over the rows are the same
    const Tally t = evaluate(loaded.models.front(), DataLoader(dataset, loader));
    r.loss = t.loss();
    r.token_acc = t.token_acc();
    r.seq_acc = t.seq_acc();
  } else {
    r.loss = r.token_acc = r.seq_acc = std::numeric_limits<double>::quiet_NaN();
  }

  const auto groups = rows_by_source(*corpus);
  std::vector<std::vector<std::string>> sources;
  sources.reserve(groups.size());
  for (const auto& rows : groups) sources.push_back(corpus->source_tokens(rows.front()));
  SearchOptions best = options.search;
  best.n_best = 1;
  const auto predictions =
      search_sources(loaded.models, loaded.vocab, sources, best, options.batch, nullptr);
  for (size_t g = 0; g < groups.size(); ++g) {
    std::vector<std::vector<std::string>> references;
    for (size_t row : groups[g]) references.push_back(corpus->target_tokens(row));
    r.errors.add(predictions[g].front().tokens, references);
  }
  return r;
}

}  // namespace s2s
