// PairDataset and collate: corpus rows to padded, time-major int64 tensors.
#include "s2s/dataset.h"

#include <fmt/core.h>

#include <algorithm>

#include "s2s/error.h"

namespace s2s {
namespace {
constexpr size_t kMaxUnknownExamples = 10;

torch::Tensor ids_tensor(const std::vector<int64_t>& map, TokenSpan span) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(span.size()) + 1}, torch::kInt64);
  int64_t* out = t.data_ptr<int64_t>();
  for (size_t i = 0; i < span.size(); ++i) out[i] = map[static_cast<size_t>(span[i])];
  out[span.size()] = kEosId;
  return t;
}

void check_row(const PairDataset& ds, int64_t row) {
  if (row < 0 || static_cast<size_t>(row) >= ds.rows()) {
    throw Error(
        fmt::format("dataset row {} is out of range (the dataset has {} rows)", row, ds.rows()));
  }
}
}  // namespace

PairDataset::PairDataset(std::shared_ptr<const Corpus> corpus, const Vocab& vocab)
    : corpus_(std::move(corpus)) {
  if (!corpus_) throw Error("PairDataset: no corpus");
  const size_t n = corpus_->num_tokens();
  token_map_.resize(n);
  std::vector<char> unknown(n, 0);
  bool any_unknown = false;
  for (size_t id = 0; id < n; ++id) {
    const std::string& token = corpus_->token(static_cast<int32_t>(id));
    if (vocab.contains(token)) {
      token_map_[id] = vocab.id(token);
    } else {
      token_map_[id] = kUnkId;
      unknown[id] = 1;
      any_unknown = true;
    }
  }
  if (!any_unknown) return;
  // Count occurrences once, here, so callers report them once.
  std::vector<char> listed(n, 0);
  for (size_t row = 0; row < corpus_->size(); ++row) {
    bool row_has_unknown = false;
    for (TokenSpan span : {corpus_->source(row), corpus_->target(row)}) {
      for (int32_t id : span) {
        if (!unknown[static_cast<size_t>(id)]) continue;
        ++unknown_.tokens;
        row_has_unknown = true;
        if (!listed[static_cast<size_t>(id)] && unknown_.examples.size() < kMaxUnknownExamples) {
          listed[static_cast<size_t>(id)] = 1;
          unknown_.examples.push_back(corpus_->token(id));
        }
      }
    }
    if (row_has_unknown) ++unknown_.rows;
  }
}

torch::data::Example<> PairDataset::get(size_t index) {
  check_row(*this, static_cast<int64_t>(index));
  return {ids_tensor(token_map_, corpus_->source(index)),
          ids_tensor(token_map_, corpus_->target(index))};
}

std::vector<int64_t> PairDataset::source_ids(size_t row) const {
  std::vector<int64_t> out;
  for (int32_t id : corpus_->source(row)) out.push_back(token_map_[static_cast<size_t>(id)]);
  return out;
}

std::vector<int64_t> PairDataset::target_ids(size_t row) const {
  std::vector<int64_t> out;
  for (int32_t id : corpus_->target(row)) out.push_back(token_map_[static_cast<size_t>(id)]);
  return out;
}

Batch collate(const PairDataset& ds, const std::vector<int64_t>& indices) {
  if (indices.empty()) throw Error("collate: a batch needs at least one row");
  const Corpus& corpus = ds.corpus();
  const std::vector<int64_t>& map = ds.token_map();
  const auto B = static_cast<int64_t>(indices.size());
  int64_t S = 0, T = 0;
  for (int64_t row : indices) {
    check_row(ds, row);
    S = std::max(S, ds.source_length(static_cast<size_t>(row)));
    T = std::max(T, ds.target_length(static_cast<size_t>(row)));
  }
  Batch batch;
  batch.indices = indices;
  batch.src = torch::zeros({S, B}, torch::kInt64);  // kPadId == 0
  batch.tgt = torch::zeros({T, B}, torch::kInt64);
  batch.src_lengths = torch::empty({B}, torch::kInt64);
  batch.tgt_lengths = torch::empty({B}, torch::kInt64);
  batch.tgt_mask = torch::zeros({T, B}, torch::kBool);
  int64_t* src = batch.src.data_ptr<int64_t>();
  int64_t* tgt = batch.tgt.data_ptr<int64_t>();
  int64_t* src_len = batch.src_lengths.data_ptr<int64_t>();
  int64_t* tgt_len = batch.tgt_lengths.data_ptr<int64_t>();
  bool* mask = batch.tgt_mask.data_ptr<bool>();
  for (int64_t b = 0; b < B; ++b) {
    const auto row = static_cast<size_t>(indices[static_cast<size_t>(b)]);
    const TokenSpan s = corpus.source(row);
    const auto sn = static_cast<int64_t>(s.size());
    for (int64_t t = 0; t < sn; ++t) src[t * B + b] = map[static_cast<size_t>(s[t])];
    src[sn * B + b] = kEosId;
    src_len[b] = sn + 1;
    const TokenSpan g = corpus.target(row);
    const auto gn = static_cast<int64_t>(g.size());
    for (int64_t t = 0; t < gn; ++t) tgt[t * B + b] = map[static_cast<size_t>(g[t])];
    tgt[gn * B + b] = kEosId;
    tgt_len[b] = gn + 1;
    for (int64_t t = 0; t <= gn; ++t) mask[t * B + b] = true;
  }
  return batch;
}

torch::Tensor decoder_input(const Batch& batch) {
  const int64_t T = batch.tgt.size(0);
  const int64_t B = batch.tgt.size(1);
  torch::Tensor in = torch::empty({T, B}, torch::kInt64);
  in[0].fill_(kSosId);
  if (T > 1) in.slice(0, 1, T).copy_(batch.tgt.slice(0, 0, T - 1));
  return in;
}

}  // namespace s2s
