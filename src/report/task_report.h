// The report of an experiment on the user's data (`s2s experiment --train ... --valid ...`):
// every grid point (a trained run decoded one way) with the task's numbers on --valid and
// --test as `s2s eval` measures them, ranked by --metric on --valid, and the best configuration
// as the commands that train and evaluate it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/metric.h"
#include "report/plan.h"
#include "report/report.h"

namespace s2s::report {

struct TaskRow {
  const EvalSpec* eval = nullptr;
  RunView run;  // the training behind it
  std::optional<EvalNumbers> valid;
  std::optional<EvalNumbers> test;
  std::string eval_status;  // what the scheduler knows beyond the files: "evaluating", ...
};

struct TaskReportInput {
  const ExperimentOptions* options = nullptr;
  const Plan* plan = nullptr;
  std::string budget;
  std::string machine;
  std::string updated;
  std::vector<TaskRow> rows;  // one per plan->evals, in grid order
  std::vector<PlotView> plots;
};

// Indices of `rows`, best first by `metric` on valid (ties keep grid order), then the rows
// without valid numbers in grid order.
std::vector<std::size_t> rank_rows(const std::vector<TaskRow>& rows, Metric metric);

// The shell commands that train the configuration of `eval` again, into OUT/best (the same
// `s2s train` flags as its run, on the same data), and evaluate it with its decode settings on
// --test (else --valid).
std::string best_commands(const ExperimentOptions& options, const Plan& plan, const EvalSpec& eval);

Report render_task_report(const TaskReportInput& in);

}  // namespace s2s::report
