// The experiment's report, DIR/REPORT.md and DIR/REPORT.html: the runs' table beside the
// course's figures, the curves grouped as the course groups them, and the course's conclusions
// judged from the numbers. Rendered from run directories alone, so it can be refreshed after
// every run and regenerated at any time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "report/conclusions.h"
#include "report/document.h"
#include "report/plan.h"
#include "report/plot_groups.h"
#include "report/run_result.h"
#include "s2s/overfit.h"

namespace s2s::report {

struct RunView {
  const RunSpec* spec = nullptr;
  RunResult result;
  std::string live;  // what the scheduler knows beyond the files: "running", "failed (exit 1)"
};

struct PlotView {
  PlotGroup group;
  bool made = false;  // the image exists
  std::string error;  // why it could not be made
};

struct ReportInput {
  std::string title;    // "course" or "grid"
  std::string command;  // the command that reproduces it
  std::string budget;   // the time budget in words
  std::string machine;
  std::string updated;  // UTC time of this refresh
  std::vector<std::string> notes;
  std::vector<RunView> runs;
  std::vector<PlotView> plots;
  OverfitRule rule;
  int64_t course_data_scale = 1;  // see ExperimentOptions::course_data_scale
};

struct Report {
  std::string markdown;
  std::string html;
};

// Observations for the judge: finished runs with their accuracies and overfitting epochs.
std::vector<Observation> observations(const std::vector<RunView>& runs);

Report render_report(const ReportInput& input);

// A training run's state for a table: the scheduler's word if any, else from its files
// ("finished (completed)", "interrupted", "pending", ...).
std::string status_of(const RunView& run);

// The "Curves" section: each chart (or why it is missing), captioned with its runs' names. The
// compared-pair charts are left out: they sit under the claims.
void add_curves(std::vector<Block>& doc, const std::vector<PlotView>& plots,
                const std::vector<std::string>& run_names);

// Writes REPORT.md and REPORT.html into `dir`, each atomically.
void write_report(const std::filesystem::path& dir, const Report& report);

// "hostname: CPU model, N cores" of this machine.
std::string machine_description();

std::string utc_now();

std::string format_duration(double seconds);

}  // namespace s2s::report
