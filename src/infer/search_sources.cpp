#include "infer/search_sources.h"

#include <ATen/ATen.h>
#include <fmt/core.h>

#include <algorithm>

#include "s2s/beam_search.h"
#include "s2s/error.h"

namespace s2s {

LoadedModels load_models(const std::vector<std::string>& paths, Precision precision) {
  if (paths.empty()) throw Error("--model is required");
  LoadedModels out;
  for (const std::string& path : paths) {
    LoadedCheckpoint ck = load_checkpoint(path, RnnImpl::OneDNN, precision);
    if (out.models.empty()) {
      out.vocab = ck.vocab;
      out.meta = ck.meta;
    } else if (ck.vocab != out.vocab) {
      throw Error(
          fmt::format("{}: its vocabulary differs from {}'s (an ensemble's models must "
                      "share one: train them on the same data)",
                      path, paths.front()));
    }
    out.models.push_back(ck.model);
  }
  return out;
}

std::vector<std::vector<Prediction>> search_sources(
    const std::vector<Seq2Seq>& models, const Vocab& vocab,
    const std::vector<std::vector<std::string>>& sources, const SearchOptions& search,
    int64_t batch, int64_t* unknown) {
  search.check();
  if (batch < 1) throw Error(fmt::format("--batch must be >= 1, got {}", batch));
  std::vector<std::vector<Prediction>> out;
  out.reserve(sources.size());
  const auto step = static_cast<size_t>(batch);
  for (size_t begin = 0; begin < sources.size(); begin += step) {
    const size_t end = std::min(sources.size(), begin + step);
    std::vector<std::vector<int64_t>> ids;
    size_t longest = 0;
    for (size_t i = begin; i < end; ++i) {
      int64_t missing = 0;
      ids.push_back(vocab.encode(sources[i], &missing));
      longest = std::max(longest, ids.back().size());
      if (unknown == nullptr) continue;
      if (!ids.back().empty() && missing == static_cast<int64_t>(ids.back().size())) {
        throw Error(
            fmt::format("input {}: none of its tokens are in the model's vocabulary", i + 1));
      }
      *unknown += missing;
    }
    const auto columns = static_cast<int64_t>(end - begin);
    at::Tensor src = at::full({static_cast<int64_t>(longest + 1), columns}, kPadId, at::kLong);
    at::Tensor lengths = at::empty({columns}, at::kLong);
    auto acc = src.accessor<int64_t, 2>();
    for (int64_t b = 0; b < columns; ++b) {
      const auto& row = ids[static_cast<size_t>(b)];
      for (size_t t = 0; t < row.size(); ++t) acc[static_cast<int64_t>(t)][b] = row[t];
      acc[static_cast<int64_t>(row.size())][b] = kEosId;
      lengths[b] = static_cast<int64_t>(row.size() + 1);
    }
    for (auto& hypotheses : beam_search(models, src, lengths, search)) {
      std::vector<Prediction> predictions;
      for (const Hypothesis& h : hypotheses) {
        predictions.push_back({vocab.decode(h.tokens), h.log_prob, h.score, h.ended});
      }
      out.push_back(std::move(predictions));
    }
  }
  return out;
}

}  // namespace s2s
