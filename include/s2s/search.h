// What decoding searches for: beam width, how many hypotheses, length penalty, maximum output
// length. No torch here: the CLI parses flags into these once, and evaluation and prediction
// take them as they are (the search itself is s2s/beam_search.h).
#pragma once

#include <cstdint>
#include <string>

namespace s2s {

// How a hypothesis' summed log-probability is normalised before hypotheses of different
// lengths are compared. `length` counts decoding steps: the tokens plus the <eos> that ended
// the hypothesis (a hypothesis cut at the maximum length has no <eos>).
struct LengthPenalty {
  enum class Kind { None, Average, Wu };
  Kind kind = Kind::None;
  double alpha = 0;  // Wu only

  // The divisor of the summed log-probability: none 1; avg `length`; wu ((5 + length) / 6)^alpha
  // (Wu et al. 2016, "Google's neural machine translation system", eq. 14).
  double divisor(int64_t length) const;
  // "none", "avg" or "wu:ALPHA" with ALPHA in [0, 10]: what parse() reads.
  std::string to_string() const;
  // Throws s2s::Error naming --length-penalty for anything else.
  static LengthPenalty parse(const std::string& text);
};

struct SearchOptions {
  // Hypotheses kept per sentence at every step; 1 is greedy decoding (the same tokens).
  int64_t beam = 1;
  // Hypotheses returned per sentence, best first (at most `beam`).
  int64_t n_best = 1;
  LengthPenalty length_penalty;
  // A sentence of n source tokens decodes at most floor(max_len_ratio * n) + 2 steps (its
  // <eos> included) unless max_len > 0, which then applies to every sentence.
  double max_len_ratio = 2.0;
  int64_t max_len = 0;

  // Decoding steps allowed for a source of `source_tokens` tokens (without its <eos>).
  int64_t max_steps(int64_t source_tokens) const;
  // Throws s2s::Error naming the flag (--beam, --n-best, --max-len-ratio, --max-len).
  void check() const;
};

}  // namespace s2s
