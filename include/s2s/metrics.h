// Loss and accuracy bookkeeping for one pass over a data set, and the per-epoch record written
// to DIR/metrics.jsonl (one JSON object per line, flushed every epoch; the dashboard follows it).
#pragma once

#include <cstdint>
#include <string>

namespace s2s {

// Running sums over batches. Loss is per target token (padding excluded), as NLLLoss computes
// it; token accuracy counts every real target token including <eos>; sequence accuracy is exact
// match of the whole target (through its <eos>).
struct Tally {
  double loss_sum = 0.0;  // summed over target tokens
  int64_t tokens = 0;
  int64_t correct_tokens = 0;
  int64_t seqs = 0;
  int64_t correct_seqs = 0;

  double loss() const { return tokens ? loss_sum / static_cast<double>(tokens) : 0.0; }
  double token_acc() const {
    return tokens ? static_cast<double>(correct_tokens) / static_cast<double>(tokens) : 0.0;
  }
  double seq_acc() const {
    return seqs ? static_cast<double>(correct_seqs) / static_cast<double>(seqs) : 0.0;
  }
  std::string to_json() const;
  static Tally from_json(const std::string& json);
};

// One line of metrics.jsonl.
struct EpochMetrics {
  int64_t epoch = 0;
  double train_loss = 0, train_token_acc = 0, train_seq_acc = 0;
  double valid_loss = 0, valid_token_acc = 0, valid_seq_acc = 0;
  double epoch_seconds = 0;  // train + validation wall time
  double train_pairs_per_second = 0;
  double lr = 0;
  double elapsed_seconds = 0;   // since the run started, across resumes
  std::string to_json() const;  // one line, no newline
  static EpochMetrics from_json(const std::string& json);
};

}  // namespace s2s
