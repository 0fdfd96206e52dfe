// The decoding flags `s2s infer` and `s2s eval` share (--beam, --length-penalty, --n-best,
// --max-len-ratio, --max-len), parsed once into s2s::SearchOptions.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "s2s/search.h"

namespace s2s::cli {

struct SearchFlags {
  SearchOptions options;
  std::string length_penalty = "none";

  // The options with --length-penalty parsed and every value checked (s2s::Error names the flag).
  SearchOptions parse() const {
    SearchOptions o = options;
    o.length_penalty = LengthPenalty::parse(length_penalty);
    o.check();
    return o;
  }
};

// Registers the flags on `cmd`; --n-best only when the command can print several hypotheses.
inline void add_search_flags(CLI::App* cmd, SearchFlags& f, bool with_n_best) {
  cmd->add_option(
      "--beam", f.options.beam,
      "Beam width: hypotheses kept per sentence at each step; 1 is greedy decoding [1]");
  cmd->add_option("--length-penalty", f.length_penalty,
                  "How hypotheses of different lengths compare: none (summed log-probability), "
                  "avg (divided by the length) or wu:ALPHA (divided by ((5 + length) / 6)^ALPHA, "
                  "GNMT's; 0.6 to 1 are common) [none]");
  if (with_n_best) {
    cmd->add_option("--n-best", f.options.n_best,
                    "Hypotheses printed per sentence, best first, with their scores (at most "
                    "--beam) [1]");
  }
  cmd->add_option("--max-len-ratio", f.options.max_len_ratio,
                  "A sentence of N source tokens decodes at most floor(RATIO x N) + 2 steps, its "
                  "<eos> included [2]");
  cmd->add_option("--max-len", f.options.max_len,
                  "Decoding steps at most for every sentence, overriding --max-len-ratio "
                  "(0 = use the ratio) [0]");
}

}  // namespace s2s::cli
