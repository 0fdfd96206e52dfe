// `s2s plot`: the dashboard's charts as an image (PNG or SVG), drawn with cairo. Three panels
// share the epoch axis: loss, token accuracy, sequence accuracy; train dashed, validation
// solid, one colour per run; best epoch and overfitting epoch marked per run. Runs with a step
// log (steps.jsonl) add a fourth panel under them: the training loss every few steps.
#pragma once

#include <filesystem>
#include <vector>

#include "s2s/runs.h"

namespace s2s {

struct PlotOptions {
  int width = 1500;  // pixels (PNG) or points (SVG)
  int height = 520;
};

struct PlotRun {
  RunInfo info;
  std::vector<EpochRecord> epochs;
  std::vector<StepRecord> steps;  // read_steps(info.steps_path()); may be empty
};

// Writes the charts to `out`; the format comes from its extension (.png or .svg). The file is
// written to a temporary name and renamed, so a previous image is never left half-written.
// Throws s2s::Error for an unknown extension, no runs, or a write failure.
void plot_runs(const std::vector<PlotRun>& runs, const std::filesystem::path& out,
               const PlotOptions& options = {});

}  // namespace s2s
