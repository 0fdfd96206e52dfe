// The decisions a run takes between steps and epochs: the learning rate of every step
// (--lr-schedule), the best epoch (s2s/overfit.h's rule), early stopping (--patience) and, with
// --time-budget, how many epochs fit. Pure functions of the configuration and a small state
// that checkpoints carry, so a resumed run takes exactly the decisions the uninterrupted one
// would have (the time budget's plan reads the clock, and is then carried the same way).
#pragma once

#include <cstdint>
#include <vector>

#include "s2s/run_record.h"

namespace s2s {

struct ScheduleState {
  double lr = 0;             // constant/exponential/plateau: the rate in force this epoch
  int64_t lr_cut_epoch = 0;  // plateau: the epoch of the last halving (0: none yet)
  int64_t best_epoch = 0;    // 0: no epoch validated yet
  double best_valid_seq_acc = 0;
  double best_valid_loss = 0;
  int64_t min_loss_epoch = 0;  // the epoch of the lowest validation loss (0: none yet)
  double min_valid_loss = 0;
  // --time-budget: the epochs the run has, as last planned (0: --epochs). warmup-cosine's
  // half cosine ends at the last step of this epoch.
  int64_t planned_epochs = 0;
};

struct EpochVerdict {
  bool best = false;        // this epoch is the best so far: write best.pt
  bool stop_early = false;  // --patience epochs without a lower validation loss
};

class Scheduler {
 public:
  Scheduler(const TrainConfig& config, int64_t steps_per_epoch);

  ScheduleState start() const;  // the state of a new run

  // The learning rate of optimizer step `step` (0-based, counted from the run's first step).
  double lr_at(const ScheduleState& state, int64_t step) const;

  // After validating `epoch`: records it in `state` (best, lowest loss, the next epoch's rate)
  // and says whether it is the best so far and whether to stop.
  EpochVerdict end_epoch(ScheduleState& state, int64_t epoch, double valid_seq_acc,
                         double valid_loss) const;

  // The epoch the run ends with: the planned one under --time-budget, else --epochs.
  int64_t last_epoch(const ScheduleState& state) const;

  // --time-budget: after epoch `done`, sets state.planned_epochs to the epochs that fit (see
  // plan_epochs) given every epoch's seconds so far (oldest first) and the run's elapsed
  // seconds. Returns whether the plan changed.
  bool plan(ScheduleState& state, int64_t done, const std::vector<double>& epoch_seconds,
            double elapsed_seconds) const;
  // plan() at the end of epoch `done`, except that a run which has reached its planned last
  // epoch keeps it: its schedule has ended (warmup-cosine's rate is ~0 there), and a longer plan
  // would only add epochs at that rate. (A resume plans with plan(): --epochs may be new.)
  bool replan_after_epoch(ScheduleState& state, int64_t done,
                          const std::vector<double>& epoch_seconds, double elapsed_seconds) const;

  int64_t warmup_steps() const { return warmup_steps(total_steps()); }
  int64_t total_steps() const { return config_.epochs * steps_per_epoch_; }  // of --epochs

 private:
  int64_t warmup_steps(int64_t total) const;  // of a run of `total` steps, less than total
  TrainConfig config_;
  int64_t steps_per_epoch_ = 1;
};

// The mean of the last three of `epoch_seconds` (fewer if there are fewer; 0 if none).
double recent_epoch_seconds(const std::vector<double>& epoch_seconds);
// How many epochs a run with `budget_seconds` of time can have in all, at most `max_epochs`:
// the `done` epochs and as many more as fit in what is left after `elapsed_seconds`, each
// expected to take recent_epoch_seconds plus 5% (these VMs' speed drifts by 10-20%; ending
// over the budget is worse than one epoch fewer). At least `done`, which means: stop now.
// Nothing measured yet: `max_epochs`.
int64_t plan_epochs(int64_t done, const std::vector<double>& epoch_seconds, double elapsed_seconds,
                    double budget_seconds, int64_t max_epochs);

}  // namespace s2s
