// Reading the per-epoch log that training writes (RUN_DIR/metrics.jsonl): one JSON object per
// line, appended after each epoch. Readers follow the file while it grows, never show a partial
// last line, and skip lines that are not valid records instead of failing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace s2s {
// MERGE NOTE (experiment branch): train's include/s2s/metrics.h also defines s2s::EpochMetrics,
// with another layout; two classes with one mangled name break the program at run time (ODR).
// This inline namespace gives the dashboard's its own mangled name until the two are unified;
// a file that includes both headers gets a compile error (ambiguous), never a silent crash.
inline namespace metrics_log {

// One line of metrics.jsonl. Fields missing from a line are NaN (the writer may add fields
// over time; readers must not depend on more than `epoch`).
struct EpochMetrics {
  int epoch = 0;
  double train_loss;
  double train_token_acc;
  double train_seq_acc;
  double valid_loss;
  double valid_token_acc;
  double valid_seq_acc;
  double epoch_seconds;
  double lr;
  EpochMetrics();
};

// Parses one line. Returns nullopt for anything that is not a JSON object with an integer
// `epoch` >= 0 (blank lines, garbage, truncated JSON).
std::optional<EpochMetrics> parse_metrics_line(const std::string& line);

// Follows one metrics.jsonl as it grows. poll() reads only the bytes appended since the last
// call and keeps the last line until its newline arrives. A file that shrinks or is replaced
// (new inode) is read again from the start; a file that vanishes yields no records. Lines
// longer than kMaxLineBytes are skipped, and one poll reads at most kMaxBytesPerPoll, so a
// huge or hostile file costs bounded memory and time per call.
class MetricsFollower {
 public:
  static constexpr size_t kMaxLineBytes = 64 * 1024;
  static constexpr size_t kMaxBytesPerPoll = 16 * 1024 * 1024;
  static constexpr size_t kMaxRecords = 100000;

  explicit MetricsFollower(std::filesystem::path path);

  // Reads what was appended. Returns true when records() changed. Never throws on I/O.
  bool poll();

  const std::vector<EpochMetrics>& records() const { return records_; }
  // Complete lines that were not valid records (malformed or too long), since the last reset.
  size_t skipped_lines() const { return skipped_; }
  const std::filesystem::path& path() const { return path_; }
  // Bytes of the file read so far (complete lines plus a pending partial line).
  std::uintmax_t offset() const { return offset_; }

 private:
  void reset();
  void take_line(const std::string& line);

  std::filesystem::path path_;
  std::vector<EpochMetrics> records_;
  std::string pending_;           // bytes after the last newline, not yet a full line
  bool discarding_line_ = false;  // inside an over-long line: drop bytes until its newline
  std::uintmax_t offset_ = 0;     // bytes of the file consumed so far
  std::uintmax_t inode_ = 0;
  size_t skipped_ = 0;
};

// Reads a whole metrics.jsonl once (complete lines only). Missing file: empty vector.
std::vector<EpochMetrics> read_metrics(const std::filesystem::path& path);

// The epoch with the lowest validation loss (first one on ties); nullopt when no epoch has a
// finite validation loss.
std::optional<int> best_epoch(const std::vector<EpochMetrics>& epochs);

// The overfitting epoch: the first epoch whose validation loss was a new best (by more than
// min_delta) and was then not improved on for `patience` further epochs. This is the epoch
// where early stopping with the same patience would have stopped improving. nullopt while
// fewer than `patience` epochs followed the best one. patience must be >= 1.
std::optional<int> overfit_epoch(const std::vector<EpochMetrics>& epochs, int patience,
                                 double min_delta = 0.0);
// Same rule on a bare sequence; returns the index into valid_loss.
std::optional<size_t> overfit_index(const std::vector<double>& valid_loss, int patience,
                                    double min_delta = 0.0);

}  // namespace metrics_log
}  // namespace s2s
