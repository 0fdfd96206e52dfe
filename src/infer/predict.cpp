#include <ATen/ATen.h>

#include <algorithm>
#include <memory>

#include "s2s/checkpoint.h"
#include "s2s/csv.h"
#include "s2s/dataset.h"
#include "s2s/decode.h"
#include "s2s/error.h"
#include "s2s/runtime.h"
#include "train/scoring.h"

namespace s2s {

EvalReport evaluate_file(const std::string& model_path, const std::string& data_path, int64_t batch,
                         int64_t threads, Precision precision) {
  configure_runtime({threads, -1});
  LoadedCheckpoint ck = load_checkpoint(model_path, RnnImpl::OneDNN, precision);
  auto corpus = std::make_shared<const Corpus>(read_pairs_csv(data_path));
  auto dataset = std::make_shared<const PairDataset>(corpus, ck.vocab);
  const UnknownTokens& unknown = dataset->unknown();
  if (unknown.tokens > 0 && static_cast<size_t>(unknown.tokens) == corpus->total_tokens()) {
    throw Error(data_path + ": none of its tokens are in the vocabulary of " + model_path);
  }
  LoaderOptions options;
  options.batch_size = batch;
  options.shuffle = false;
  const Tally t = evaluate(ck.model, DataLoader(dataset, options));
  EvalReport r;
  r.loss = t.loss();
  r.token_acc = t.token_acc();
  r.seq_acc = t.seq_acc();
  r.rows = static_cast<int64_t>(dataset->rows());
  r.unknown_tokens = unknown.tokens;
  r.unknown_rows = unknown.rows;
  r.unknown_note = unknown.describe();
  return r;
}

struct Predictor::Impl {
  LoadedCheckpoint ck;
  int64_t unknown = 0;
};

Predictor::Predictor(const std::string& model_path, Precision precision)
    : impl_(std::make_unique<Impl>()) {
  impl_->ck = load_checkpoint(model_path, RnnImpl::OneDNN, precision);
}

Predictor::~Predictor() = default;

int64_t Predictor::unknown_tokens() const {
  return impl_->unknown;
}

std::vector<std::vector<std::string>> Predictor::predict(
    const std::vector<std::vector<std::string>>& sources, int64_t max_len) {
  constexpr size_t kBatch = 512;
  const Vocab& vocab = impl_->ck.vocab;
  std::vector<std::vector<std::string>> out;
  out.reserve(sources.size());
  for (size_t begin = 0; begin < sources.size(); begin += kBatch) {
    const size_t end = std::min(sources.size(), begin + kBatch);
    // Time-major, <eos> appended, <pad> after: the layout the model was trained on.
    size_t longest = 0;
    for (size_t i = begin; i < end; ++i) longest = std::max(longest, sources[i].size());
    at::Tensor src = at::full(
        {static_cast<int64_t>(longest + 1), static_cast<int64_t>(end - begin)}, kPadId, at::kLong);
    auto acc = src.accessor<int64_t, 2>();
    for (size_t i = begin; i < end; ++i) {
      int64_t unknown = 0;
      const auto ids = vocab.encode(sources[i], &unknown);
      if (!ids.empty() && unknown == static_cast<int64_t>(ids.size())) {
        throw Error("input " + std::to_string(i + 1) +
                    ": none of its tokens are in the model's vocabulary");
      }
      impl_->unknown += unknown;
      for (size_t t = 0; t < ids.size(); ++t)
        acc[static_cast<int64_t>(t)][static_cast<int64_t>(i - begin)] = ids[t];
      acc[static_cast<int64_t>(ids.size())][static_cast<int64_t>(i - begin)] = kEosId;
    }
    const int64_t steps = max_len > 0 ? max_len : 2 * static_cast<int64_t>(longest) + 2;
    const at::Tensor pred = impl_->ck.model->greedy(src, steps).t().contiguous();
    for (int64_t b = 0; b < pred.size(0); ++b) {
      const at::Tensor row = pred[b];
      out.push_back(vocab.decode(
          std::vector<int64_t>(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel())));
    }
  }
  return out;
}

}  // namespace s2s
