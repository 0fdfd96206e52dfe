// Using a trained model: evaluation on a data file and greedy decoding of token sequences.
// No torch in this header; the CLI's eval and infer commands are thin layers over it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "s2s/cell.h"

namespace s2s {

struct EvalReport {
  double loss = 0;       // teacher-forced NLL per target token
  double token_acc = 0;  // greedy decoding, per target token (incl. <eos>)
  double seq_acc = 0;    // greedy decoding, exact match
  int64_t rows = 0;
  int64_t unknown_tokens = 0;  // data tokens the model's vocabulary lacks (mapped to <unk>)
  int64_t unknown_rows = 0;
  std::string unknown_note;  // UnknownTokens::describe(), "" when none
};

// Evaluates a checkpoint on a CSV file as validation does during training, its RNNs running in
// `precision`. Throws s2s::Error when the checkpoint is unusable or no token of the file is in
// the model's vocabulary.
EvalReport evaluate_file(const std::string& model_path, const std::string& data_path,
                         int64_t batch = 512, int64_t threads = 0,
                         Precision precision = Precision::F32);

// A loaded model answering token sequences by greedy decoding.
class Predictor {
 public:
  explicit Predictor(const std::string& model_path, Precision precision = Precision::F32);
  ~Predictor();
  Predictor(const Predictor&) = delete;
  Predictor& operator=(const Predictor&) = delete;

  // Responses (tokens before the first <eos>) to each source. A source is decoded for at most
  // max_len steps; 0 means twice its length plus 2. Unknown tokens become <unk> and are counted
  // in unknown_tokens(). Throws s2s::Error if a non-empty input has no known token at all.
  std::vector<std::vector<std::string>> predict(
      const std::vector<std::vector<std::string>>& sources, int64_t max_len = 0);
  int64_t unknown_tokens() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace s2s
