// Following metrics.jsonl and steps.jsonl as they grow; the best and overfit epochs of a run.
#include "s2s/metrics_log.h"

#include "s2s/overfit.h"

#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

namespace s2s {

LineFollower::LineFollower(std::filesystem::path path) : path_(std::move(path)) {}

void LineFollower::reset() {
  pending_.clear();
  discarding_line_ = false;
  offset_ = 0;
  skipped_ = 0;
}

void LineFollower::poll(const std::function<void()>& on_reset,
                        const std::function<bool(const std::string&)>& on_line) {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    // Vanished (or not a file): show nothing rather than stale numbers.
    reset();
    inode_ = 0;
    on_reset();
    return;
  }
  const auto size = static_cast<std::uintmax_t>(st.st_size);
  if (st.st_ino != inode_ || size < offset_) {
    // Replaced or truncated: the old records may not be in the new file.
    reset();
    inode_ = st.st_ino;
    on_reset();
  }
  if (size == offset_) return;

  std::ifstream in(path_, std::ios::binary);
  if (!in) return;
  in.seekg(static_cast<std::streamoff>(offset_));
  const std::uintmax_t want = std::min<std::uintmax_t>(size - offset_, kMaxBytesPerPoll);
  std::string chunk(static_cast<size_t>(want), '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(want));
  const auto got = static_cast<size_t>(in.gcount());
  chunk.resize(got);
  offset_ += got;

  const auto take = [&](const std::string& line) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) return;  // blank: not an error
    if (!on_line(line)) ++skipped_;
  };
  size_t start = 0;
  while (start < chunk.size()) {
    const size_t nl = chunk.find('\n', start);
    if (nl == std::string::npos) {
      // No newline yet: keep the tail, unless the line is already too long to be a record.
      if (!discarding_line_) {
        pending_.append(chunk, start, std::string::npos);
        if (pending_.size() > kMaxLineBytes) {
          pending_.clear();
          discarding_line_ = true;
        }
      }
      break;
    }
    if (discarding_line_) {
      discarding_line_ = false;
      ++skipped_;
    } else {
      pending_.append(chunk, start, nl - start);
      if (pending_.size() > kMaxLineBytes) {
        ++skipped_;
      } else {
        take(pending_);
      }
      pending_.clear();
    }
    start = nl + 1;
  }
}

MetricsFollower::MetricsFollower(std::filesystem::path path)
    : RecordFollower(std::move(path), EpochRecord::parse,
                     [](const EpochRecord& m) { return static_cast<int64_t>(m.epoch); }) {}

StepFollower::StepFollower(std::filesystem::path path)
    : RecordFollower(std::move(path), StepRecord::parse,
                     [](const StepRecord& r) { return r.step; }) {}

namespace {

// Reads a whole file through a follower: one poll reads a bounded amount; a few more cover
// big files, with a cap for huge ones.
template <class Follower>
auto read_all(const std::filesystem::path& path) {
  Follower follower(path);
  for (int i = 0; i < 64; ++i) {
    follower.poll();
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec || follower.offset() >= size) break;
  }
  return follower.records();
}

}  // namespace

std::vector<EpochRecord> read_metrics(const std::filesystem::path& path) {
  return read_all<MetricsFollower>(path);
}

std::vector<StepRecord> read_steps(const std::filesystem::path& path) {
  return read_all<StepFollower>(path);
}

std::optional<int> best_epoch(const std::vector<EpochRecord>& epochs) {
  std::optional<size_t> best;
  for (size_t i = 0; i < epochs.size(); ++i) {
    const auto& m = epochs[i];
    if (!std::isfinite(m.valid_seq_acc)) continue;
    if (!best || better_epoch({m.valid_seq_acc, m.valid_loss},
                              {epochs[*best].valid_seq_acc, epochs[*best].valid_loss}))
      best = i;
  }
  if (!best) {  // no sequence accuracy logged: lowest validation loss
    for (size_t i = 0; i < epochs.size(); ++i) {
      if (std::isfinite(epochs[i].valid_loss) &&
          (!best || epochs[i].valid_loss < epochs[*best].valid_loss))
        best = i;
    }
  }
  if (!best) return std::nullopt;
  return epochs[*best].epoch;
}

std::optional<int> overfit_epoch(const std::vector<EpochRecord>& epochs, int patience) {
  std::vector<LossPoint> losses;
  losses.reserve(epochs.size());
  for (const auto& m : epochs) losses.push_back({m.epoch, m.train_loss, m.valid_loss});
  OverfitRule rule;
  rule.patience = patience;
  return overfitting_epoch(losses, rule);
}

}  // namespace s2s
