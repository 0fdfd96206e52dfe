// What a run directory written by `s2s train` says: its per-epoch metrics (metrics.jsonl), its
// summary (summary.json, present once training ended) and whether it can be resumed (last.pt).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "report/grid.h"
#include "s2s/metrics_log.h"
#include "s2s/overfit.h"

namespace s2s::report {

enum class RunState {
  NotStarted,   // nothing to resume from: train from scratch
  Interrupted,  // a checkpoint (last.pt), no summary or one saying "interrupted": resume
  Finished,     // summary.json written (early stopping, all epochs, or a NaN loss): skip
};

const char* to_string(RunState state);

// metrics.jsonl as s2s::read_metrics reads it (partial and malformed lines skipped), with the
// epochs a resumed run logged twice kept once (the later record).
std::vector<MetricsRecord> read_run_metrics(const std::filesystem::path& file);

RunState run_state(const std::filesystem::path& run_dir);

// Throws s2s::Error when `run_dir` holds a run (config.json) whose configuration differs from
// `params` in a key both know: rerunning into the same directory must not mix two experiments.
void check_same_config(const std::filesystem::path& run_dir, const RunParams& params);

struct RunResult {
  RunState state = RunState::NotStarted;
  std::vector<MetricsRecord> epochs;
  std::optional<int> best_epoch;      // best validation sequence accuracy (summary's if written)
  std::optional<MetricsRecord> best;  // that epoch's metrics
  std::optional<int> overfit_epoch;   // by overfitting_epoch() on the curves
  std::string stop_reason;            // from summary.json; empty while running
  double wall_seconds = 0;            // summary's total_seconds, else the sum of epoch times
};

RunResult load_run(const std::filesystem::path& run_dir, const OverfitRule& rule = {});

}  // namespace s2s::report
