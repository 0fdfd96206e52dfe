// Reading the logs training writes as the run goes (RUN_DIR/metrics.jsonl, one EpochRecord per
// epoch, and RUN_DIR/steps.jsonl, one StepRecord every --log-every steps; s2s/run_record.h).
// Readers follow a file while it grows, never show a partial last line, and skip lines that
// are not valid records instead of failing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "s2s/run_record.h"

namespace s2s {

// Follows one JSONL file as it grows. poll() reads only the bytes appended since the last
// call and keeps the last line until its newline arrives. A file that shrinks or is replaced
// (new inode) is read again from the start; a file that vanishes yields no records. Lines
// longer than kMaxLineBytes are skipped, and one poll reads at most kMaxBytesPerPoll, so a
// huge or hostile file costs bounded memory and time per call.
class LineFollower {
 public:
  static constexpr size_t kMaxLineBytes = 64 * 1024;
  static constexpr size_t kMaxBytesPerPoll = 16 * 1024 * 1024;

  explicit LineFollower(std::filesystem::path path);

  // Reads what was appended. Calls on_reset() first when the file vanished, shrank or was
  // replaced (the caller forgets what it read), then on_line() for each new complete line that
  // is not blank; a line on_line() returns false for counts as skipped. Never throws on I/O.
  void poll(const std::function<void()>& on_reset,
            const std::function<bool(const std::string&)>& on_line);

  // Complete lines that were not valid records (malformed or too long), since the last reset.
  size_t skipped_lines() const { return skipped_; }
  const std::filesystem::path& path() const { return path_; }
  // Bytes of the file read so far (complete lines plus a pending partial line).
  std::uintmax_t offset() const { return offset_; }

 private:
  void reset();

  std::filesystem::path path_;
  std::string pending_;           // bytes after the last newline, not yet a full line
  bool discarding_line_ = false;  // inside an over-long line: drop bytes until its newline
  std::uintmax_t offset_ = 0;     // bytes of the file consumed so far
  std::uintmax_t inode_ = 0;
  bool seen_ = false;  // the file existed at the last poll
  size_t skipped_ = 0;
};

// The records of a followed JSONL file (LineFollower), keyed by a count that only grows: a
// record whose key is not after the previous one (a resumed run appending from an earlier
// checkpoint) replaces the records from that key on, so curves never run backwards.
template <class Record>
class RecordFollower {
 public:
  static constexpr size_t kMaxLineBytes = LineFollower::kMaxLineBytes;
  static constexpr size_t kMaxBytesPerPoll = LineFollower::kMaxBytesPerPoll;
  static constexpr size_t kMaxRecords = 100000;
  using Parse = std::optional<Record> (*)(const std::string&);
  using Key = int64_t (*)(const Record&);

  RecordFollower(std::filesystem::path path, Parse parse, Key key)
      : lines_(std::move(path)), parse_(parse), key_(key) {}

  // Reads what was appended. Returns true when records() changed. Never throws on I/O.
  bool poll() {
    bool changed = false;
    const size_t before = records_.size();
    lines_.poll(
        [&] {
          changed = changed || !records_.empty();
          records_.clear();
        },
        [&](const std::string& line) {
          auto r = parse_(line);
          if (!r || records_.size() >= kMaxRecords) return false;
          while (!records_.empty() && key_(records_.back()) >= key_(*r)) records_.pop_back();
          records_.push_back(*r);
          changed = true;
          return true;
        });
    return changed || records_.size() != before;
  }

  const std::vector<Record>& records() const { return records_; }
  size_t skipped_lines() const { return lines_.skipped_lines(); }
  const std::filesystem::path& path() const { return lines_.path(); }
  std::uintmax_t offset() const { return lines_.offset(); }

 private:
  LineFollower lines_;
  Parse parse_;
  Key key_;
  std::vector<Record> records_;
};

// Follows one metrics.jsonl (records keyed by epoch).
class MetricsFollower : public RecordFollower<EpochRecord> {
 public:
  explicit MetricsFollower(std::filesystem::path path);
};

// Follows one steps.jsonl (s2s/run_record.h's StepRecord, keyed by step).
class StepFollower : public RecordFollower<StepRecord> {
 public:
  explicit StepFollower(std::filesystem::path path);
};

// Reads a whole steps.jsonl once (complete lines only). Missing file: empty vector.
std::vector<StepRecord> read_steps(const std::filesystem::path& path);

// Reads a whole metrics.jsonl once (complete lines only). Missing file: empty vector.
std::vector<EpochRecord> read_metrics(const std::filesystem::path& path);

// The best epoch by the one rule (s2s/overfit.h's better_epoch), as training chose its best
// checkpoint; lowest valid_loss if no epoch has a sequence accuracy. nullopt when nothing is
// finite.
std::optional<int> best_epoch(const std::vector<EpochRecord>& epochs);

// The overfitting epoch by the one rule (s2s/overfit.h), judged with `patience`.
std::optional<int> overfit_epoch(const std::vector<EpochRecord>& epochs, int patience);

}  // namespace s2s
