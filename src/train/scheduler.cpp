#include "train/scheduler.h"

#include <algorithm>
#include <cmath>

#include "s2s/overfit.h"

namespace s2s {

Scheduler::Scheduler(const TrainConfig& config, int64_t steps_per_epoch)
    : config_(config), steps_per_epoch_(std::max<int64_t>(steps_per_epoch, 1)) {}

int64_t Scheduler::warmup_steps(int64_t total) const {
  return std::min(config_.warmup_steps + config_.warmup_epochs * steps_per_epoch_, total - 1);
}

int64_t Scheduler::last_epoch(const ScheduleState& state) const {
  return config_.time_budget > 0 && state.planned_epochs > 0 ? state.planned_epochs
                                                             : config_.epochs;
}

bool Scheduler::plan(ScheduleState& state, int64_t done, const std::vector<double>& epoch_seconds,
                     double elapsed_seconds) const {
  const int64_t before = last_epoch(state);
  state.planned_epochs =
      plan_epochs(done, epoch_seconds, elapsed_seconds, config_.time_budget * 60.0, config_.epochs);
  return state.planned_epochs != before;
}

bool Scheduler::replan_after_epoch(ScheduleState& state, int64_t done,
                                   const std::vector<double>& epoch_seconds,
                                   double elapsed_seconds) const {
  if (done >= last_epoch(state)) return false;
  return plan(state, done, epoch_seconds, elapsed_seconds);
}

double recent_epoch_seconds(const std::vector<double>& epoch_seconds) {
  const size_t recent = std::min<size_t>(3, epoch_seconds.size());
  double sum = 0;
  for (size_t i = epoch_seconds.size() - recent; i < epoch_seconds.size(); ++i) {
    sum += epoch_seconds[i];
  }
  return recent > 0 ? sum / static_cast<double>(recent) : 0.0;
}

int64_t plan_epochs(int64_t done, const std::vector<double>& epoch_seconds, double elapsed_seconds,
                    double budget_seconds, int64_t max_epochs) {
  if (epoch_seconds.empty()) return std::max(done, max_epochs);
  const double expected = std::max(1.05 * recent_epoch_seconds(epoch_seconds), 1e-9);
  const double left = budget_seconds - elapsed_seconds;
  const int64_t more = left > 0 ? static_cast<int64_t>(std::floor(left / expected)) : 0;
  return std::max(done, std::min(max_epochs, done + more));
}

ScheduleState Scheduler::start() const {
  ScheduleState s;
  s.lr = config_.lr;
  return s;
}

double Scheduler::lr_at(const ScheduleState& state, int64_t step) const {
  if (config_.lr_schedule != LrSchedule::WarmupCosine) return state.lr;
  // Linear warm-up that reaches lr at the last warm-up step; then a half cosine over the rest.
  const int64_t total = last_epoch(state) * steps_per_epoch_;
  const int64_t warmup = warmup_steps(total);
  if (step < warmup) return config_.lr * static_cast<double>(step + 1) / warmup;
  const double progress = static_cast<double>(step - warmup) /
                          static_cast<double>(std::max<int64_t>(total - warmup, 1));
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
