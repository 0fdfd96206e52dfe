// Beam search (include/s2s/beam_search.h). Tensors do the per-step arithmetic for all sentences
// at once (scores, top-k); the bookkeeping of a sentence's finished hypotheses and back-pointers
// is plain C++ over its `beam` entries.
#include "s2s/beam_search.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
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

  struct Live {
    int64_t from, token;  // the beam of the previous step it extends, the token it adds
    float log_prob;
  };

  // Step t, given this sentence's best 2 x beam extensions (log-probs best first, and flat
  // indices beam * vocab + token). Sets `live` to the beams that go on (at most `beam`), records
  // finished hypotheses, and returns whether the sentence is done.
  bool advance(const float* values, const int64_t* index, int64_t t, const SearchOptions& o,
               int64_t vocab, std::vector<Live>& live) {
    const int64_t beam = o.beam;
    live.clear();
    for (int64_t j = 0; j < 2 * beam && values[j] != kDead; ++j) {
      const int64_t from = index[j] / vocab, tok = index[j] % vocab;
      if (tok != kEosId) {
        if (static_cast<int64_t>(live.size()) < beam) live.push_back({from, tok, values[j]});
        continue;
      }
      // An <eos> among the best `beam` extensions ends a hypothesis (so beam 1 is greedy).
      const double score = values[j] / o.length_penalty.divisor(t + 1);
      if (j < beam && would_keep(score, o.n_best)) {
        keep({prefix(t - 1, from, beam), values[j], score, true}, o.n_best);
      }
    }
    for (int64_t k = 0; k < beam; ++k) {  // dead beams (k >= live) are never extended
      const bool alive = k < static_cast<int64_t>(live.size());
      parent.push_back(alive ? static_cast<int32_t>(live[static_cast<size_t>(k)].from) : 0);
      token.push_back(static_cast<int32_t>(alive ? live[static_cast<size_t>(k)].token : kPadId));
    }
    if (live.empty()) return true;
    if (t + 1 >= max_steps) {  // cut: the live beams end here, without <eos>
      for (size_t k = 0; k < live.size(); ++k) {
        const double score = live[k].log_prob / o.length_penalty.divisor(t + 1);
        if (would_keep(score, o.n_best)) {
          keep({prefix(t, static_cast<int64_t>(k), beam), live[k].log_prob, score, false},
               o.n_best);
        }
      }
      return true;
    }
    if (beam == 1) return !finished.empty();  // greedy: ends at its <eos>
    if (static_cast<int64_t>(finished.size()) < o.n_best) return false;
    // No extension of the best live beam can score above this bound (see the header).
    const double bound = live[0].log_prob / o.length_penalty.divisor(max_steps);
    return bound <= finished.back().score;
  }
};

// The decoders of an ensemble's models, stepped together.
class Decoders {
 public:
  Decoders(const std::vector<Seq2Seq>& models, const at::Tensor& src, const at::Tensor& lengths)
      : models_(models) {
    for (Seq2Seq& m : models_) states_.push_back(m->start_decoding(src, lengths));
  }
  // log of the mean of the models' next-token probabilities [rows, V].
  at::Tensor step(const at::Tensor& tokens) {
    if (models_.size() == 1) return models_[0]->decode_step(states_[0], tokens);
    std::vector<at::Tensor> log_probs;
    for (size_t i = 0; i < models_.size(); ++i) {
      log_probs.push_back(models_[i]->decode_step(states_[i], tokens));
    }
    return at::logsumexp(at::stack(log_probs), 0) - std::log(static_cast<double>(models_.size()));
  }
  void select(const at::Tensor& index) {
    for (DecoderState& s : states_) s.select(index);
  }

 private:
  std::vector<Seq2Seq> models_;
  std::vector<DecoderState> states_;
};

std::vector<std::vector<Hypothesis>> search_rows(const std::vector<Seq2Seq>& models,
                                                 const at::Tensor& src,
                                                 const at::Tensor& src_lengths,
                                                 const SearchOptions& o) {
  at::NoGradGuard no_grad;
  const int64_t batch = src.size(1), beam = o.beam, vocab = models[0]->options.vocab_size();
  const at::Tensor lengths = src_lengths.to(at::kLong).contiguous();
  std::vector<Sentence> sentences(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    sentences[static_cast<size_t>(b)].max_steps =
        std::max<int64_t>(1, o.max_steps(lengths[b].item<int64_t>() - 1));
  }
  Decoders state(models, src, lengths);
  // Rows are slots x beam; slot s searches sentence slot_sentence[s] (-1 once it is done; its
  // rows idle until enough slots are done to be worth dropping).
  std::vector<int64_t> slot_sentence(static_cast<size_t>(batch));
  std::iota(slot_sentence.begin(), slot_sentence.end(), 0);
  state.select(at::arange(batch, at::kLong).repeat_interleave(beam));
  at::Tensor cum = at::full({batch, beam}, kDead, at::kFloat);
  cum.select(1, 0).fill_(0);  // one live beam at <sos>
  at::Tensor tokens = at::full({batch * beam}, kSosId, at::kLong);
  int64_t live = batch;
  std::vector<Sentence::Live> extensions;
  for (int64_t t = 0; live > 0; ++t) {
    const int64_t slots = static_cast<int64_t>(slot_sentence.size());
    const at::Tensor total = cum.unsqueeze(2) + state.step(tokens).view({slots, beam, vocab});
    // The best 2 x beam extensions hold at least `beam` that are not <eos> (each live beam
    // has one <eos> extension).
    auto [values, index] = total.view({slots, beam * vocab}).topk(2 * beam, 1);
    at::Tensor next_cum = at::full({slots, beam}, kDead, at::kFloat);
    auto cum_a = next_cum.accessor<float, 2>();
    std::vector<int64_t> rows(static_cast<size_t>(slots * beam));
    at::Tensor next_tokens = at::full({slots * beam}, kPadId, at::kLong);
    int64_t* next_tok = next_tokens.data_ptr<int64_t>();
    for (int64_t s = 0; s < slots; ++s) {
      for (int64_t k = 0; k < beam; ++k) rows[static_cast<size_t>(s * beam + k)] = s * beam;
      const int64_t id = slot_sentence[static_cast<size_t>(s)];
      if (id < 0) continue;
      const bool done = sentences[static_cast<size_t>(id)].advance(
          values[s].data_ptr<float>(), index[s].data_ptr<int64_t>(), t, o, vocab, extensions);
      for (size_t k = 0; k < extensions.size(); ++k) {
        const auto row = s * beam + static_cast<int64_t>(k);
        cum_a[s][static_cast<int64_t>(k)] = extensions[k].log_prob;
        rows[static_cast<size_t>(row)] = s * beam + extensions[k].from;
        next_tok[row] = extensions[k].token;
      }
      if (done) {
        slot_sentence[static_cast<size_t>(s)] = -1;
        --live;
      }
    }
    if (live == 0) break;
    cum = next_cum;
    tokens = next_tokens;
    const bool compact = 2 * live <= slots;
    bool identity = !compact;  // always so at beam 1: then the state stays where it is
    for (size_t i = 0; identity && i < rows.size(); ++i)
      identity = rows[i] == static_cast<int64_t>(i);
    if (identity) continue;
    at::Tensor row_index = at::tensor(rows, at::kLong);
    if (compact) {  // drop the finished sentences' rows
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
  return beam_search(std::vector<Seq2Seq>{model}, src, src_lengths, options);
}

std::vector<std::vector<Hypothesis>> beam_search(const std::vector<Seq2Seq>& models,
                                                 const at::Tensor& src,
                                                 const at::Tensor& src_lengths,
                                                 const SearchOptions& options) {
  options.check();
  if (models.empty()) throw Error("beam_search: no model");
  for (const Seq2Seq& m : models) {
    if (m->options.vocab_size() != models[0]->options.vocab_size()) {
      throw Error("beam_search: an ensemble's models must share one vocabulary");
    }
  }
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
  const bool fused = std::all_of(models.begin(), models.end(), [](const Seq2Seq& m) {
    return m->options.impl() != RnnImpl::Torch;
  });
  if (!fused || parts < 2 || at::in_parallel_region()) {
    return search_rows(models, src, src_lengths, options);
  }
  std::vector<std::vector<std::vector<Hypothesis>>> results(static_cast<size_t>(parts));
  at::parallel_for(0, parts, 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      const int64_t first = batch * k / parts, last = batch * (k + 1) / parts;
      results[static_cast<size_t>(k)] =
          search_rows(models, src.narrow(1, first, last - first).contiguous(),
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
