#include "train/progress.h"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <ostream>

namespace s2s {

ProgressReporter::ProgressReporter(const TrainOptions& options, const TrainConfig& config)
    : options_(options), config_(config) {}

void ProgressReporter::step(int64_t epoch, int64_t last_epoch, int64_t step, int64_t steps,
                            double loss, double seconds) {
  if (!options_.progress_bar || !options_.progress) return;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * step / std::max<int64_t>(steps, 1));
  const double eta = step > 0 ? seconds / step * (steps - step) : 0.0;
  *options_.progress << fmt::format("\repoch {}/{} [{}{}] {}/{} loss {:.4f} {:.0f}s eta {:.0f}s ",
                                    epoch, last_epoch, std::string(filled, '#'),
                                    std::string(kWidth - filled, '.'), step, steps, loss, seconds,
                                    eta)
                     << std::flush;
  bar_open_ = true;
}

void ProgressReporter::end_bar() {
  if (bar_open_) *options_.progress << "\n";
  bar_open_ = false;
}

void ProgressReporter::epoch(const EpochRecord& m, int64_t last_epoch, bool best) {
  end_bar();
  if (!options_.log) return;
  *options_.log << fmt::format(
                       "epoch {}/{}  train loss {:.4f} tok {:.4f} seq {:.4f} | valid loss {:.4f} "
                       "tok {:.4f} seq {:.4f} | {:.1f}s {:.0f} pairs/s lr {:.3g}{}\n",
                       m.epoch, last_epoch, m.train_loss, m.train_token_acc, m.train_seq_acc,
                       m.valid_loss, m.valid_token_acc, m.valid_seq_acc, m.epoch_seconds,
                       m.train_pairs_per_second, m.lr, best ? "  *best" : "")
                << std::flush;
}

void ProgressReporter::note(const std::string& line) {
  end_bar();
  // Flushed like the epoch lines: a log written to a file (block-buffered) shows each message
  // when it happens, not at the next epoch's line.
  if (options_.log) *options_.log << line << "\n" << std::flush;
}

void ProgressReporter::non_finite_loss(int64_t epoch, int64_t step, double loss,
                                       int64_t kept_epoch) {
  const auto last = (std::filesystem::path(config_.out) / run_files::kLastCheckpoint).string();
  note(
      fmt::format("epoch {} step {}: loss is {}; stopped. {} keeps epoch {} (try a lower --lr "
                  "or --clip)",
                  epoch, step, loss, last, kept_epoch));
}

void ProgressReporter::interrupted(int64_t epoch, int64_t step, int64_t steps) {
  const auto last = (std::filesystem::path(config_.out) / run_files::kLastCheckpoint).string();
  if (step < steps) {
    note(
        fmt::format("interrupted in epoch {} after step {}/{}; saved {} (continue with --resume "
                    "{})",
                    epoch, step, steps, last, config_.out));
  } else {
    note(fmt::format("interrupted after epoch {}; saved {} (continue with --resume {})", epoch,
                     last, config_.out));
  }
}

void ProgressReporter::early_stop(int64_t min_loss_epoch) {
  note(fmt::format("early stopping: valid loss has not improved for {} epochs (best at epoch {})",
                   config_.patience, min_loss_epoch));
}

}  // namespace s2s
