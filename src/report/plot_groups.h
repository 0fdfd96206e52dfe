// Which runs share a chart, grouped as the course reads them: "model size and dropout" (runs
// that differ only in the model: layers, hidden, cell, dropout) and "dataset size" (runs that
// differ only in train_size). Any other varied key gets its own group kind.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "report/plan.h"

namespace s2s::report {

struct PlotGroup {
  std::string kind;               // "Model size and dropout", "Dataset size", "lr", ...
  std::string title;              // what is held fixed, e.g. "2800 training pairs"
  std::string file;               // image name relative to the report, e.g. "plots/model-n2800.png"
  std::vector<std::size_t> runs;  // indices into Plan::runs, at least two
};

std::vector<PlotGroup> plot_groups(const Plan& plan);

// The kind of the charts below: they sit under the claims in the report, not among the curves.
inline constexpr const char* kComparedPairKind = "Compared pair";

// One chart per pair of runs a course claim compares (report::compared_pairs), so each verdict
// shows the two curves that decide it: plots/pair-LOW-vs-HIGH.png.
std::vector<PlotGroup> pair_plot_groups(const Plan& plan);

// The chart file of one compared pair, as pair_plot_groups names it.
std::string pair_plot_file(const std::string& low, const std::string& high);

}  // namespace s2s::report
