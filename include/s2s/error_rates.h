// Token and sentence error rates of decoded hypotheses, as G2P (PER/WER), OCR/spelling (CER)
// and ASR (WER) papers report them.
//
// A sentence is one distinct source. When a source appears on several rows of a data file with
// different targets (a word with two pronunciations), those targets are its references: its
// hypothesis is right if it equals any of them, and its token errors are the edit distance to
// the closest one (fewest edits; among equally close references the longest, so the rate does
// not depend on row order), counted over that reference's length.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace s2s {

struct ErrorRates {
  int64_t sentences = 0;         // distinct sources scored
  int64_t wrong_sentences = 0;   // hypothesis equal to none of the references
  int64_t token_errors = 0;      // edit distance to the closest reference, summed
  int64_t reference_tokens = 0;  // the closest references' lengths, summed (no <eos>)

  // token_errors / reference_tokens (can exceed 1: insertions); 0 when there are none.
  double token_error_rate() const;
  // wrong_sentences / sentences; 0 when there are none.
  double sentence_error_rate() const;

  // Scores one sentence's hypothesis against its references (at least one).
  void add(const std::vector<std::string>& hypothesis,
           const std::vector<std::vector<std::string>>& references);
};

}  // namespace s2s
