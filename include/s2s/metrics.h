// Loss and accuracy bookkeeping for one pass over a data set (the per-epoch record written to
// DIR/metrics.jsonl is s2s/run_record.h's EpochRecord).
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

}  // namespace s2s
