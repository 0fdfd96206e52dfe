// Beam search (include/s2s/beam_search.h). Tensors do the per-step arithmetic for all sentences
// at once (scores, top-k); the bookkeeping of a sentence's finished hypotheses and back-pointers
// is plain C++ over its `beam` entries.
#include "s2s/beam_search.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "s2s/error.h"

namespace s2s {
namespace {

constexpr float kDead = -std::numeric_limits<float>::infinity();

// One sentence's search: for every step t and live beam k, the token chosen and the beam of
// step t - 1 it extends (flat, t * beam + k), and the best finished hypotheses so far.
struct Sentence {
  int64_t max_steps = 0;
  std::vector<int32_t> parent, token;
  std::vector<Hypothesis> finished;  // best score first, at most n_best

  // Tokens of live beam k after step t (t = -1: the empty prefix).
  std::vector<int64_t> prefix(int64_t t, int64_t k, int64_t beam) const {
    std::vector<int64_t> out(static_cast<size_t>(t + 1));
    for (int64_t s = t; s >= 0; --s) {
      const size_t at = static_cast<size_t>(s * beam + k);
      out[static_cast<size_t>(s)] = token[at];
      k = parent[at];
    }
    return out;
  }

  // Whether a hypothesis scoring `score` would enter the n-best list (earlier ones win ties).
  bool would_keep(double score, int64_t n_best) const {
    return static_cast<int64_t>(finished.size()) < n_best || score > finished.back().score;
  }
  void keep(Hypothesis h, int64_t n_best) {
    const auto at =
        std::upper_bound(finished.begin(), finished.end(), h.score,
                         [](double score, const Hypothesis& other) { return score > other.score; });
    finished.insert(at, std::move(h));
    if (static_cast<int64_t>(finished.size()) > n_best) finished.pop_back();
  }
};

std::vector<std::vector<Hypothesis>> search_rows(Seq2Seq& model, const at::Tensor& src,
                                                 const at::Tensor& src_lengths,
                                                 const SearchOptions& o) {
  at::NoGradGuard no_grad;
  const int64_t batch = src.size(1), beam = o.beam, vocab = model->options.vocab_size();
  const at::Tensor lengths = src_lengths.to(at::kLong).contiguous();
  std::vector<Sentence> sentences(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    sentences[static_cast<size_t>(b)].max_steps =
        std::max<int64_t>(1, o.max_steps(lengths[b].item<int64_t>() - 1));
  }
  DecoderState state = model->start_decoding(src, lengths);
  // Rows are slots x beam; slot s searches sentence slot_sentence[s] (-1 once it is done; its
  // rows idle until enough slots are done to be worth dropping).
  std::vector<int64_t> slot_sentence(static_cast<size_t>(batch));
  std::iota(slot_sentence.begin(), slot_sentence.end(), 0);
  state.select(at::arange(batch, at::kLong).repeat_interleave(beam));
  at::Tensor cum = at::full({batch, beam}, kDead, at::kFloat);
  cum.select(1, 0).fill_(0);  // one live beam at <sos>
  at::Tensor tokens = at::full({batch * beam}, kSosId, at::kLong);
  int64_t live = batch;
  for (int64_t t = 0; live > 0; ++t) {
    const int64_t slots = static_cast<int64_t>(slot_sentence.size());
    const at::Tensor total =
        cum.unsqueeze(2) + model->decode_step(state, tokens).view({slots, beam, vocab});
    // The best 2 x beam extensions hold at least `beam` that are not <eos> (each live beam
    // has one <eos> extension).
    auto [values, index] = total.view({slots, beam * vocab}).topk(2 * beam, 1);
    const auto val_a = values.accessor<float, 2>();
    const auto idx_a = index.accessor<int64_t, 2>();
    at::Tensor next_cum = at::full({slots, beam}, kDead, at::kFloat);
    auto cum_a = next_cum.accessor<float, 2>();
    std::vector<int64_t> rows(static_cast<size_t>(slots * beam));
    at::Tensor next_tokens = at::full({slots * beam}, kPadId, at::kLong);
    int64_t* next_tok = next_tokens.data_ptr<int64_t>();
    for (int64_t s = 0; s < slots; ++s) {
      for (int64_t k = 0; k < beam; ++k) rows[static_cast<size_t>(s * beam + k)] = s * beam;
      const int64_t id = slot_sentence[static_cast<size_t>(s)];
      if (id < 0) continue;
      Sentence& sen = sentences[static_cast<size_t>(id)];
      int64_t kept = 0;
      for (int64_t j = 0; j < 2 * beam && val_a[s][j] != kDead; ++j) {
        const int64_t from = idx_a[s][j] / vocab, tok = idx_a[s][j] % vocab;
        if (tok == kEosId) {
          // An <eos> among the best `beam` extensions ends a hypothesis (so beam 1 is greedy).
          const double score = val_a[s][j] / o.length_penalty.divisor(t + 1);
          if (j < beam && sen.would_keep(score, o.n_best)) {
            sen.keep({sen.prefix(t - 1, from, beam), val_a[s][j], score, true}, o.n_best);
          }
        } else if (kept < beam) {
          sen.parent.push_back(static_cast<int32_t>(from));
          sen.token.push_back(static_cast<int32_t>(tok));
          cum_a[s][kept] = val_a[s][j];
          rows[static_cast<size_t>(s * beam + kept)] = s * beam + from;
          next_tok[s * beam + kept] = tok;
          ++kept;
        }
      }
      for (int64_t k = kept; k < beam; ++k) {  // dead beams: any row, never extended
        sen.parent.push_back(0);
        sen.token.push_back(static_cast<int32_t>(kPadId));
      }
      bool done = kept == 0;
      if (!done && t + 1 >= sen.max_steps) {  // cut: the live beams end here, without <eos>
        for (int64_t k = 0; k < kept; ++k) {
          const double score = cum_a[s][k] / o.length_penalty.divisor(t + 1);
          if (sen.would_keep(score, o.n_best)) {
            sen.keep({sen.prefix(t, k, beam), cum_a[s][k], score, false}, o.n_best);
          }
        }
        done = true;
      }
      if (!done && beam == 1) done = !sen.finished.empty();  // greedy: ends at its <eos>
      if (!done && static_cast<int64_t>(sen.finished.size()) >= o.n_best) {
        const double bound = cum_a[s][0] / o.length_penalty.divisor(sen.max_steps);
        done = bound <= sen.finished.back().score;
      }
      if (done) {
        slot_sentence[static_cast<size_t>(s)] = -1;
        --live;
      }
    }
    if (live == 0) break;
    at::Tensor row_index = at::tensor(rows, at::kLong);
    cum = next_cum;
    tokens = next_tokens;
    if (2 * live <= slots) {  // drop the finished sentences' rows
      std::vector<int64_t> keep_slots, keep_rows;
      std::vector<int64_t> kept_sentences;
      for (int64_t s = 0; s < slots; ++s) {
        if (slot_sentence[static_cast<size_t>(s)] < 0) continue;
        keep_slots.push_back(s);
        kept_sentences.push_back(slot_sentence[static_cast<size_t>(s)]);
        for (int64_t k = 0; k < beam; ++k) keep_rows.push_back(s * beam + k);
      }
      const at::Tensor slot_index = at::tensor(keep_slots, at::kLong);
      const at::Tensor kept_rows = at::tensor(keep_rows, at::kLong);
      row_index = row_index.index_select(0, kept_rows);
      tokens = tokens.index_select(0, kept_rows);
      cum = cum.index_select(0, slot_index);
      slot_sentence = kept_sentences;
    }
    state.select(row_index);
  }
  std::vector<std::vector<Hypothesis>> results;
  results.reserve(sentences.size());
  for (auto& sen : sentences) results.push_back(std::move(sen.finished));
  return results;
}

}  // namespace

std::vector<std::vector<Hypothesis>> beam_search(Seq2Seq& model, const at::Tensor& src,
                                                 const at::Tensor& src_lengths,
                                                 const SearchOptions& options) {
  options.check();
  if (src.dim() != 2 || src_lengths.dim() != 1 || src_lengths.numel() != src.size(1)) {
    throw Error("beam_search: expected src [S, B] and src_lengths [B]");
  }
  // As greedy does: with several threads, slices of the batch search side by side, one thread
  // each (a step's GEMMs are too small to split well); results do not depend on the slicing.
  // kMinRows keeps small batches in one pass; it is a floor, not a tuned value.
  constexpr int64_t kMinRows = 8;
  const int64_t batch = src.size(1);
  const int64_t min_sentences = std::max<int64_t>(1, kMinRows / options.beam);
  const int64_t parts = std::min<int64_t>(at::get_num_threads(), batch / min_sentences);
  if (model->options.impl() != RnnImpl::OneDNN || parts < 2 || at::in_parallel_region()) {
    return search_rows(model, src, src_lengths, options);
  }
  std::vector<std::vector<std::vector<Hypothesis>>> results(static_cast<size_t>(parts));
  at::parallel_for(0, parts, 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      const int64_t first = batch * k / parts, last = batch * (k + 1) / parts;
      results[static_cast<size_t>(k)] =
          search_rows(model, src.narrow(1, first, last - first).contiguous(),
                      src_lengths.narrow(0, first, last - first), options);
    }
  });
  std::vector<std::vector<Hypothesis>> all;
  all.reserve(static_cast<size_t>(batch));
  for (auto& part : results) {
    for (auto& r : part) all.push_back(std::move(r));
  }
  return all;
}

}  // namespace s2s
