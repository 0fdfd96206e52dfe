// Beam search over a Seq2Seq's step-wise decoding (Seq2SeqImpl::start_decoding/decode_step).
//
// Every sentence keeps `beam` live hypotheses. At each step, of all extensions of the live
// hypotheses, an <eos> among the best `beam` ends a hypothesis (scored with the length penalty;
// the best `n_best` finished ones are kept), and the best `beam` other extensions stay live. A
// sentence stops when it has n_best finished hypotheses and no live one can still beat the
// n_best-th: log-probabilities only add negative terms, so a live hypothesis' score bounds every
// extension of it (divided by the penalty of the longest allowed length). At its maximum length
// the live hypotheses end without <eos>. Beam 1 is greedy decoding: it stops at the first <eos>
// (so the length penalty changes nothing). A beam at least as wide as the number of extensions
// at every step is exhaustive search.
//
// A sentence's result depends on nothing but that sentence: its encoding ignores the batch's
// padding (start_decoding), its maximum length is its own, and a finished sentence leaves the
// batch without disturbing the others.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "s2s/search.h"
#include "s2s/seq2seq.h"

namespace s2s {

struct Hypothesis {
  std::vector<int64_t> tokens;  // vocabulary ids, without <eos>
  double log_prob = 0;          // sum of the log-probabilities of the tokens (and <eos>)
  double score = 0;             // log_prob / length_penalty.divisor(steps())
  bool ended = true;            // false when cut at the maximum length (no <eos>)

  int64_t steps() const { return static_cast<int64_t>(tokens.size()) + (ended ? 1 : 0); }
};

// src [S, B] time-major ids, src_lengths [B]: the positions of each column to read (its tokens
// and <eos>). Returns, per column, min(n_best, possible) hypotheses, best score first. No
// gradients; the model should be in eval() mode. With our own kernels and several threads,
// slices of the batch are searched side by side, one thread each (the same results).
std::vector<std::vector<Hypothesis>> beam_search(Seq2Seq& model, const at::Tensor& src,
                                                 const at::Tensor& src_lengths,
                                                 const SearchOptions& options);

// An ensemble of models with the same vocabulary searched as one: at every step the next
// token's distribution is the mean of the models' probabilities (as OpenNMT averages them), so
// log-probabilities and scores stay those of a normalised distribution. One model is the
// search above.
std::vector<std::vector<Hypothesis>> beam_search(const std::vector<Seq2Seq>& models,
                                                 const at::Tensor& src,
                                                 const at::Tensor& src_lengths,
                                                 const SearchOptions& options);

}  // namespace s2s
