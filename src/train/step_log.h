// DIR/steps.jsonl: the mean training loss (and tokens/s) of every --log-every optimizer steps,
// so a curve moves while an epoch runs. Records sit at fixed global steps (multiples of
// log_every), and the steps since the last record travel in the checkpoint's RunState, so a
// resumed run writes the records the uninterrupted one would have.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

#include "s2s/train_step.h"
#include "train/run_state.h"

namespace s2s {

class StepLog {
 public:
  // Opens `path` keeping only the records of the first `done_steps` steps (those the checkpoint
  // we continue from has seen; 0: a new run). every == 0: no file is written.
  StepLog(const std::string& path, int64_t every, int64_t done_steps);

  // After the run's optimizer step `step` (1-based, counted across epochs), the
  // `step_in_epoch`-th of `steps` in `epoch`, which took `seconds` and ran at `lr`.
  void add(RunState& state, const StepResult& result, double seconds, int64_t step, int64_t epoch,
           int64_t step_in_epoch, int64_t steps, double lr);

 private:
  int64_t every_;
  std::ofstream out_;
};

}  // namespace s2s
