// Training as the course does it (Adam, NLLLoss ignoring <pad>, train()/eval()), with what a
// real run needs: per-epoch metrics in DIR/metrics.jsonl, the loss every few steps in
// DIR/steps.jsonl, atomic DIR/last.pt and DIR/best.pt, exact resume, graceful SIGINT/SIGTERM,
// learning-rate schedules, early stopping and a NaN guard. No torch in this header: the CLI and
// tests drive training through it. The configuration and the run's files: s2s/run_record.h.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "s2s/run_record.h"

namespace s2s {

class ProcessGroup;  // s2s/distributed.h

struct TrainOptions {
  bool resume = false;          // continue from out/last.pt
  bool progress_bar = false;    // redraw a bar on `progress` (a terminal) instead of epoch lines
  std::ostream* log = nullptr;  // one line per epoch and messages; nullptr: silent
  std::ostream* progress = nullptr;
  // SIGINT/SIGTERM: finish the step, write last.pt, return. Calls isolate_signals() (runtime.h);
  // call that yourself first in main() so that threads created before train() are covered too.
  bool handle_signals = true;
  // Stop (as if interrupted) after this many optimizer steps in this process; 0: never.
  // Lets tests interrupt a run at an exact point.
  int64_t stop_after_steps = 0;
  // A rank of a data-parallel job (s2s/distributed.h; must outlive train()): --batch is then
  // per rank, gradients are averaged, and rank 0 alone writes the run's files. nullptr: alone.
  ProcessGroup* group = nullptr;
};

// What train() returns; DIR/summary.json says the same (s2s/run_record.h's RunSummary).
struct TrainSummary {
  // Why training stopped: Completed, EarlyStopping, Interrupted or NonFiniteLoss.
  RunStatus reason = RunStatus::Completed;
  int64_t epochs_completed = 0;
  int64_t best_epoch = 0;  // best validation sequence accuracy (ties: lower loss)
  double best_valid_seq_acc = 0;
  double best_valid_loss = 0;
  int64_t overfitting_epoch = 0;  // by s2s/overfit.h's rule (the run's patience); 0: none
  double total_seconds = 0;
};

// Why train() refuses --time-budget with a process group: each rank's clock would plan its own
// epochs, and a rank that stopped first would leave the others waiting in an all-reduce.
inline constexpr const char* kTimeBudgetNeedsOneProcess =
    "--time-budget works with one process only, not in a distributed run";

// Runs (or resumes) training; writes DIR/config.json, metrics.jsonl, steps.jsonl, last.pt,
// best.pt, summary.json. Throws s2s::Error on bad input. A non-finite loss stops the run (reason
// NonFiniteLoss) keeping the last good checkpoint.
TrainSummary train(const TrainConfig& config, const TrainOptions& options = {});

}  // namespace s2s
