// The decisions a run takes between steps and epochs: the learning rate of every step
// (--lr-schedule), the best epoch (s2s/overfit.h's rule) and early stopping (--patience).
// Pure functions of the configuration and a small state that checkpoints carry, so a resumed
// run takes exactly the decisions the uninterrupted one would have.
#pragma once

#include <cstdint>

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

  int64_t warmup_steps() const { return warmup_; }
  int64_t total_steps() const { return total_; }

 private:
  TrainConfig config_;
  int64_t total_ = 0;   // steps of the whole run (--epochs)
  int64_t warmup_ = 0;  // warm-up steps of warmup-cosine, less than total_
};

}  // namespace s2s
