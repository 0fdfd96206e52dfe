// Token strings in, hypotheses out: batches sources for beam_search (time-major, <eos>
// appended, <pad> after) and maps ids back to tokens. Shared by Predictor and evaluate_file.
#pragma once

#include <string>
#include <vector>

#include "s2s/checkpoint.h"
#include "s2s/decode.h"
#include "s2s/search.h"
#include "s2s/seq2seq.h"
#include "s2s/vocab.h"

namespace s2s {

// Checkpoints loaded to decode together: one model, or an ensemble (see beam_search).
struct LoadedModels {
  std::vector<Seq2Seq> models;
  Vocab vocab;          // the one vocabulary they share
  CheckpointMeta meta;  // the first model's
};

// Throws s2s::Error when `paths` is empty, a checkpoint is unusable, or a model's vocabulary
// differs from the first's (naming both files).
LoadedModels load_models(const std::vector<std::string>& paths, Precision precision);

// n_best predictions per source. Adds the unknown source tokens to *unknown when given, and
// then throws s2s::Error (naming the 1-based input) if a non-empty source has no known token
// (a user's typo; evaluation instead scores such rows like any other).
std::vector<std::vector<Prediction>> search_sources(
    const std::vector<Seq2Seq>& models, const Vocab& vocab,
    const std::vector<std::vector<std::string>>& sources, const SearchOptions& search,
    int64_t batch, int64_t* unknown);

}  // namespace s2s
