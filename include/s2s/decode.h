// Using a trained model: evaluation on a data file and decoding of token sequences (greedy or
// beam search, see s2s/search.h). No torch in this header; the CLI's eval and infer commands
// are thin layers over it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "s2s/cell.h"
#include "s2s/error_rates.h"
#include "s2s/search.h"
#include "s2s/vocab.h"

namespace s2s {

struct EvalOptions {
  int64_t batch = 512;  // rows per batch for the loss, sentences per batch for decoding
  int64_t threads = 0;  // 0 = all cores
  Precision precision = Precision::F32;
  // How the hypotheses behind the error rates are decoded (the best one of each; n_best is
  // ignored). The default, beam 1, is greedy decoding.
  SearchOptions search;
};

struct EvalReport {
  // Validation's numbers, computed exactly as during training: every row, teacher-forced loss,
  // greedy decoding for at most the target's length, in padded batches of `batch` rows (so with
  // sources of different lengths they can move slightly with the batch; the error rates don't).
  int64_t models = 1;    // more than one: an ensemble, and the next three are NaN
  double loss = 0;       // teacher-forced NLL per target token
  double token_acc = 0;  // greedy decoding, per target token (incl. <eos>)
  double seq_acc = 0;    // greedy decoding, exact match
  int64_t rows = 0;
  // The search's best hypothesis for each distinct source, against all of that source's
  // targets (see s2s/error_rates.h): errors.sentences counts distinct sources.
  ErrorRates errors;
  int64_t unknown_tokens = 0;  // data tokens the model's vocabulary lacks (mapped to <unk>)
  int64_t unknown_rows = 0;
  std::string unknown_note;  // UnknownTokens::describe(), "" when none
};

// Evaluates a checkpoint on a CSV file, its RNNs running in options.precision. Throws
// s2s::Error when the checkpoint is unusable, an option is out of range, or no token of the
// file is in the model's vocabulary.
EvalReport evaluate_file(const std::string& model_path, const std::string& data_path,
                         const EvalOptions& options = {});
// An ensemble (see Predictor): the error rates are the ensemble's search; the teacher-forced
// and greedy numbers (loss, token_acc, seq_acc) are one model's idea, so they are NaN when
// there are several models.
EvalReport evaluate_file(const std::vector<std::string>& model_paths, const std::string& data_path,
                         const EvalOptions& options = {});

// One decoded hypothesis (see s2s/beam_search.h's Hypothesis).
struct Prediction {
  std::vector<std::string> tokens;  // before <eos>
  double log_prob = 0;              // summed log-probabilities of the tokens (and <eos>)
  double score = 0;                 // log_prob after the length penalty: what ranks hypotheses
  bool ended = true;                // false when cut at the maximum length
};

// A loaded model answering token sequences.
class Predictor {
 public:
  explicit Predictor(const std::string& model_path, Precision precision = Precision::F32);
  // An ensemble: the models decode as one (their probabilities averaged at every step); they
  // must share a vocabulary. config_json() is the first model's.
  explicit Predictor(const std::vector<std::string>& model_paths,
                     Precision precision = Precision::F32);
  ~Predictor();
  Predictor(const Predictor&) = delete;
  Predictor& operator=(const Predictor&) = delete;

  // The best `search.n_best` hypotheses for each source, best first, decoding `batch` sources
  // at a time (results do not depend on it). Unknown tokens become <unk> and are counted in
  // unknown_tokens(). Throws s2s::Error for bad options, or if a non-empty input has no known
  // token at all.
  std::vector<std::vector<Prediction>> predict_n_best(
      const std::vector<std::vector<std::string>>& sources, const SearchOptions& search = {},
      int64_t batch = 512);
  // The best hypothesis' tokens for each source.
  std::vector<std::vector<std::string>> predict(
      const std::vector<std::vector<std::string>>& sources, const SearchOptions& search = {},
      int64_t batch = 512);
  int64_t unknown_tokens() const;
  // The checkpoint's vocabulary (which input tokens are known) and run configuration (JSON, as
  // in config.json): what a server reports about the model it holds.
  const Vocab& vocab() const;
  const std::string& config_json() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace s2s
