// A run directory written by `s2s train`, as an experiment sees it: its per-epoch metrics, how it
// ended (s2s/run_record.h's RunStatus and RunSummary) and whether it can be resumed (last.pt).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "report/grid.h"
#include "s2s/metrics_log.h"
#include "s2s/overfit.h"
#include "s2s/run_record.h"

namespace s2s::report {

// metrics.jsonl as s2s::read_metrics reads it (partial and malformed lines skipped), with the
// epochs a resumed run logged twice kept once (the later record).
std::vector<EpochRecord> read_run_metrics(const std::filesystem::path& file);

// Throws s2s::Error when `run_dir` holds a run (config.json) whose configuration differs from
// `params` in a key both know: rerunning into the same directory must not mix two experiments.
void check_same_config(const std::filesystem::path& run_dir, const RunParams& params);

struct RunResult {
  RunStatus status = RunStatus::NotStarted;
  // Not ended, and last.pt is there: `s2s train --resume` continues it. A run that has not
  // ended and has no checkpoint starts again from scratch.
  bool resumable = false;
  std::vector<EpochRecord> epochs;
  std::optional<int> best_epoch;     // the summary's, else by the one rule (s2s/overfit.h)
  std::optional<EpochRecord> best;   // that epoch's metrics
  std::optional<int> overfit_epoch;  // by overfitting_epoch() on the curves
  std::string stop_reason;           // from summary.json; empty while running
  double wall_seconds = 0;           // summary's total_seconds, else the sum of epoch times
};

RunResult load_result(const std::filesystem::path& run_dir, const OverfitRule& rule = {});

}  // namespace s2s::report
