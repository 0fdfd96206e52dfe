#include "infer/search_sources.h"

#include <ATen/ATen.h>
#include <fmt/core.h>

#include <algorithm>
#include <numeric>

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
  std::vector<std::vector<int64_t>> ids;
  ids.reserve(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) {
    int64_t missing = 0;
    ids.push_back(vocab.encode(sources[i], &missing));
    if (unknown == nullptr) continue;
    if (!ids.back().empty() && missing == static_cast<int64_t>(ids.back().size())) {
      throw Error(fmt::format("input {}: none of its tokens are in the model's vocabulary", i + 1));
    }
    *unknown += missing;
  }
  // Batches of sources of about one length: a batch's encoder runs over its longest source and
  // its search lasts as long as its longest output, so sorting by length cuts the padded work
  // (the CMU dictionary's test words, alphabetical: 1.5x fewer token slots at batch 64). The
  // results are each source's own whatever shares its batch (beam_search), and come back in
  // the input order.
  std::vector<size_t> order(sources.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return ids[a].size() < ids[b].size(); });
  std::vector<std::vector<Prediction>> out(sources.size());
  const auto step = static_cast<size_t>(batch);
  for (size_t begin = 0; begin < order.size(); begin += step) {
    const size_t end = std::min(order.size(), begin + step);
    const size_t longest = ids[order[end - 1]].size();
    const auto columns = static_cast<int64_t>(end - begin);
    at::Tensor src = at::full({static_cast<int64_t>(longest + 1), columns}, kPadId, at::kLong);
    at::Tensor lengths = at::empty({columns}, at::kLong);
    auto acc = src.accessor<int64_t, 2>();
    for (int64_t b = 0; b < columns; ++b) {
      const auto& row = ids[order[begin + static_cast<size_t>(b)]];
      for (size_t t = 0; t < row.size(); ++t) acc[static_cast<int64_t>(t)][b] = row[t];
      acc[static_cast<int64_t>(row.size())][b] = kEosId;
      lengths[b] = static_cast<int64_t>(row.size() + 1);
    }
    size_t column = begin;
    for (auto& hypotheses : beam_search(models, src, lengths, search)) {
      std::vector<Prediction>& predictions = out[order[column++]];
      for (const Hypothesis& h : hypotheses) {
        predictions.push_back({vocab.decode(h.tokens), h.log_prob, h.score, h.ended});
      }
    }
  }
  return out;
}

}  // namespace s2s
