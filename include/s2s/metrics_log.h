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

// One line of metrics.jsonl as readers see it. The writer's type is s2s::EpochMetrics
// (s2s/metrics.h, training); this one is tolerant: fields missing from a line are NaN, so
// files from older or newer writers still chart.
struct MetricsRecord {
  int epoch = 0;
  double train_loss;
  double train_token_acc;
  double train_seq_acc;
  double valid_loss;
  double valid_token_acc;
  double valid_seq_acc;
  double epoch_seconds;
  double lr;
  MetricsRecord();
};

// Parses one line. Returns nullopt for anything that is not a JSON object with an integer
// `epoch` >= 0 (blank lines, garbage, truncated JSON).
std::optional<MetricsRecord> parse_metrics_line(const std::string& line);

// Follows one metrics.jsonl as it grows. poll() reads only the bytes appended since the last
// call and keeps the last line until its newline arrives. A file that shrinks or is replaced
// (new inode) is read again from the start; a file that vanishes yields no records. Lines
// longer than kMaxLineBytes are skipped, and one poll reads at most kMaxBytesPerPoll, so a
// huge or hostile file costs bounded memory and time per call. A line whose epoch is not
// after the previous one (a resumed run appending) replaces the records from that epoch on.
class MetricsFollower {
 public:
  static constexpr size_t kMaxLineBytes = 64 * 1024;
  static constexpr size_t kMaxBytesPerPoll = 16 * 1024 * 1024;
  static constexpr size_t kMaxRecords = 100000;

  explicit MetricsFollower(std::filesystem::path path);

  // Reads what was appended. Returns true when records() changed. Never throws on I/O.
  bool poll();

  const std::vector<MetricsRecord>& records() const { return records_; }
  // Complete lines that were not valid records (malformed or too long), since the last reset.
  size_t skipped_lines() const { return skipped_; }
  const std::filesystem::path& path() const { return path_; }
  // Bytes of the file read so far (complete lines plus a pending partial line).
  std::uintmax_t offset() const { return offset_; }

 private:
  void reset();
  void take_line(const std::string& line);

  std::filesystem::path path_;
  std::vector<MetricsRecord> records_;
  std::string pending_;           // bytes after the last newline, not yet a full line
  bool discarding_line_ = false;  // inside an over-long line: drop bytes until its newline
  std::uintmax_t offset_ = 0;     // bytes of the file consumed so far
  std::uintmax_t inode_ = 0;
  size_t skipped_ = 0;
};

// Reads a whole metrics.jsonl once (complete lines only). Missing file: empty vector.
std::vector<MetricsRecord> read_metrics(const std::filesystem::path& path);

// The best epoch as training chooses its best checkpoint: highest valid_seq_acc, ties broken
// by lower valid_loss; lowest valid_loss if no epoch has a sequence accuracy. nullopt when
// nothing is finite.
std::optional<int> best_epoch(const std::vector<MetricsRecord>& epochs);

// The overfitting epoch by the one rule (s2s/overfit.h), judged with `patience`.
std::optional<int> overfit_epoch(const std::vector<MetricsRecord>& epochs, int patience);

}  // namespace s2s
