#include "train/scheduler.h"

#include <algorithm>
#include <cmath>

#include "s2s/overfit.h"

namespace s2s {

Scheduler::Scheduler(const TrainConfig& config, int64_t steps_per_epoch)
    : config_(config), total_(config.epochs * std::max<int64_t>(steps_per_epoch, 1)) {
  warmup_ = std::min(config.warmup_steps + config.warmup_epochs * steps_per_epoch, total_ - 1);
}

ScheduleState Scheduler::start() const {
  ScheduleState s;
  s.lr = config_.lr;
  return s;
}

double Scheduler::lr_at(const ScheduleState& state, int64_t step) const {
  if (config_.lr_schedule != LrSchedule::WarmupCosine) return state.lr;
  // Linear warm-up that reaches lr at the last warm-up step; then a half cosine over the rest.
  if (step < warmup_) return config_.lr * static_cast<double>(step + 1) / warmup_;
  const double progress = static_cast<double>(step - warmup_) /
                          static_cast<double>(std::max<int64_t>(total_ - warmup_, 1));
  return config_.lr * 0.5 * (1.0 + std::cos(M_PI * std::min(progress, 1.0)));
}

EpochVerdict Scheduler::end_epoch(ScheduleState& state, int64_t epoch, double valid_seq_acc,
                                  double valid_loss) const {
  EpochVerdict verdict;
  verdict.best =
      state.best_epoch == 0 ||
      better_epoch({valid_seq_acc, valid_loss}, {state.best_valid_seq_acc, state.best_valid_loss});
  if (verdict.best) {
    state.best_epoch = epoch;
    state.best_valid_seq_acc = valid_seq_acc;
    state.best_valid_loss = valid_loss;
  }
  if (state.min_loss_epoch == 0 || valid_loss < state.min_valid_loss) {
    state.min_loss_epoch = epoch;
    state.min_valid_loss = valid_loss;
  }
  switch (config_.lr_schedule) {
    case LrSchedule::Constant:
    case LrSchedule::WarmupCosine:  // a function of the step alone
      break;
    case LrSchedule::Exponential:
      state.lr *= config_.lr_decay;
      break;
    case LrSchedule::Plateau:
      // Counted from the lowest loss or the last halving, whichever is later: one halving per
      // lr_patience epochs of no progress, not one per epoch once the patience has run out.
      if (epoch - std::max(state.min_loss_epoch, state.lr_cut_epoch) >= config_.lr_patience) {
        state.lr *= 0.5;
        state.lr_cut_epoch = epoch;
      }
      break;
  }
  verdict.stop_early = config_.patience > 0 && epoch - state.min_loss_epoch >= config_.patience;
  return verdict;
}

}  // namespace s2s
