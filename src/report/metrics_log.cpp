// metrics.jsonl reading: parse lines, follow a growing file, pick the best and overfit epochs.
#include "s2s/metrics_log.h"

#include "s2s/overfit.h"

#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

namespace s2s {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double number_or_nan(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return kNaN;
  return it->get<double>();
}

}  // namespace

MetricsRecord::MetricsRecord()
    : train_loss(kNaN),
      train_token_acc(kNaN),
      train_seq_acc(kNaN),
      valid_loss(kNaN),
      valid_token_acc(kNaN),
      valid_seq_acc(kNaN),
      epoch_seconds(kNaN),
      lr(kNaN) {}

std::optional<MetricsRecord> parse_metrics_line(const std::string& line) {
  // allow_exceptions=false: garbage yields a discarded value instead of a throw.
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto e = j.find("epoch");
  if (e == j.end() || !e->is_number_integer()) return std::nullopt;
  const auto epoch = e->get<int64_t>();
  if (epoch < 0 || epoch > std::numeric_limits<int>::max()) return std::nullopt;
  MetricsRecord m;
  m.epoch = static_cast<int>(epoch);
  m.train_loss = number_or_nan(j, "train_loss");
  m.train_token_acc = number_or_nan(j, "train_token_acc");
  m.train_seq_acc = number_or_nan(j, "train_seq_acc");
  m.valid_loss = number_or_nan(j, "valid_loss");
  m.valid_token_acc = number_or_nan(j, "valid_token_acc");
  m.valid_seq_acc = number_or_nan(j, "valid_seq_acc");
  m.epoch_seconds = number_or_nan(j, "epoch_seconds");
  m.lr = number_or_nan(j, "lr");
  return m;
}

MetricsFollower::MetricsFollower(std::filesystem::path path) : path_(std::move(path)) {}

void MetricsFollower::reset() {
  records_.clear();
  pending_.clear();
  discarding_line_ = false;
  offset_ = 0;
  skipped_ = 0;
}

void MetricsFollower::take_line(const std::string& line) {
  if (line.find_first_not_of(" \t\r") == std::string::npos) return;  // blank: not an error
  auto m = parse_metrics_line(line);
  if (!m || records_.size() >= kMaxRecords) {
    ++skipped_;
    return;
  }
  // An epoch at or before the last one: training resumed from an earlier checkpoint and
  // appended. The later write wins, so curves never run backwards.
  while (!records_.empty() && records_.back().epoch >= m->epoch) records_.pop_back();
  records_.push_back(*m);
}

bool MetricsFollower::poll() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    // Vanished (or not a file): show nothing rather than stale numbers.
    const bool had = !records_.empty();
    reset();
    inode_ = 0;
    return had;
  }
  bool changed = false;
  const auto size = static_cast<std::uintmax_t>(st.st_size);
  if (st.st_ino != inode_ || size < offset_) {
    // Replaced or truncated: the old records may not be in the new file.
    changed = !records_.empty();
    reset();
    inode_ = st.st_ino;
  }
  if (size == offset_) return changed;

  std::ifstream in(path_, std::ios::binary);
  if (!in) return changed;
  in.seekg(static_cast<std::streamoff>(offset_));
  const std::uintmax_t want = std::min<std::uintmax_t>(size - offset_, kMaxBytesPerPoll);
  std::string chunk(static_cast<size_t>(want), '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(want));
  const auto got = static_cast<size_t>(in.gcount());
  chunk.resize(got);
  offset_ += got;

  const size_t before = records_.size();
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
        take_line(pending_);
      }
      pending_.clear();
    }
    start = nl + 1;
  }
  return changed || records_.size() != before;
}

std::vector<MetricsRecord> read_metrics(const std::filesystem::path& path) {
  MetricsFollower follower(path);
  // One poll reads a bounded amount; a few more cover big files, with a cap for huge ones.
  for (int i = 0; i < 64; ++i) {
    follower.poll();
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec || follower.offset() >= size) break;
  }
  return follower.records();
}

std::optional<int> best_epoch(const std::vector<MetricsRecord>& epochs) {
  // As training picks its best checkpoint: highest valid_seq_acc, ties to lower valid_loss.
  std::optional<size_t> best;
  for (size_t i = 0; i < epochs.size(); ++i) {
    const auto& m = epochs[i];
    if (!std::isfinite(m.valid_seq_acc)) continue;
    if (!best || m.valid_seq_acc > epochs[*best].valid_seq_acc ||
        (m.valid_seq_acc == epochs[*best].valid_seq_acc && m.valid_loss < epochs[*best].valid_loss))
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

std::optional<int> overfit_epoch(const std::vector<MetricsRecord>& epochs, int patience) {
  std::vector<LossPoint> losses;
  losses.reserve(epochs.size());
  for (const auto& m : epochs) losses.push_back({m.epoch, m.train_loss, m.valid_loss});
  OverfitRule rule;
  rule.patience = patience;
  return overfitting_epoch(losses, rule);
}

}  // namespace s2s
