// `s2s experiment`: the course's analysis (or any grid over the training flags) in one command.
#include <fmt/core.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "report/experiment.h"
#include "report/grid.h"
#include "s2s/error.h"

namespace s2s::cli {
namespace {

struct ExperimentFlags {
  std::string what;
  std::string grid;
  std::string out;
  int epochs = -1;
  int patience = -1;
  int jobs = 0;
  int64_t data_seed = 1;
  bool report_only = false;
};

std::string join_keys() {
  std::string keys;
  for (const std::string& k : report::grid_keys()) keys += (keys.empty() ? "" : ", ") + k;
  return keys;
}

report::ExperimentOptions to_options(const ExperimentFlags& f) {
  if (f.what == "course" && !f.grid.empty())
    throw Error("experiment: give either `course` or --grid, not both");
  if (f.what.empty() && f.grid.empty())
    throw Error("experiment: say what to run: `s2s experiment course` or --grid \"...\"");
  if (f.what.empty() && f.out.empty()) throw Error("experiment: --grid needs --out DIR");
  if (f.epochs == 0) throw Error("--epochs must be at least 1");
  const std::filesystem::path out = f.out.empty() ? "runs/experiment-course" : f.out;

  report::ExperimentOptions o;
  if (f.what == "course") {
    o = report::course_options(out);
  } else {
    o.grid_text = f.grid;
    o.grid = report::parse_grid(f.grid);
    o.out = out;
  }
  if (f.epochs > 0) o.epochs = f.epochs;
  if (f.patience >= 0) o.patience = f.patience;
  o.jobs = f.jobs;
  o.data_seed = f.data_seed;
  o.s2s = std::filesystem::read_symlink("/proc/self/exe");

  std::string cmd = "s2s experiment";
  cmd += o.name == "course" ? " course" : fmt::format(" --grid \"{}\"", o.grid_text);
  cmd += fmt::format(" --out {}", o.out.string());
  if (o.epochs > 0) cmd += fmt::format(" --epochs {}", o.epochs);
  if (o.patience >= 0) cmd += fmt::format(" --patience {}", o.patience);
  if (o.jobs > 0) cmd += fmt::format(" --jobs {}", o.jobs);
  if (o.data_seed != 1) cmd += fmt::format(" --data-seed {}", o.data_seed);
  o.command = cmd;
  return o;
}

}  // namespace

void add_experiment(CLI::App& app, Context& ctx) {
  auto flags = std::make_shared<ExperimentFlags>();
  auto* cmd = app.add_subcommand(
      "experiment",
      "Train a grid of runs (the course's study by default) and write a report comparing them");
  cmd->add_option("what", flags->what, "`course`: the course's study (model size, dropout, data)")
      ->check(CLI::IsMember({"course"}));
  cmd->add_option("--grid", flags->grid,
                  "Runs to train: space-separated key=v1,v2 axes; keys: " + join_keys());
  cmd->add_option("--out", flags->out,
                  "Experiment directory: one sub-directory per run, data/, REPORT.md "
                  "(default for course: runs/experiment-course)");
  cmd->add_option("--epochs", flags->epochs, "Most epochs per run (course default: 60)");
  cmd->add_option("--patience", flags->patience,
                  "Stop a run after N epochs without a lower validation loss (course default: 10)");
  cmd->add_option("--jobs", flags->jobs,
                  "Runs trained at once, the cores split among them (default: one run per core, "
                  "one thread each)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--data-seed", flags->data_seed, "Seed of the generated datasets");
  cmd->add_flag("--report-only", flags->report_only,
                "Only rewrite REPORT.md/.html from the run directories; train nothing");
  cmd->footer(R"(Each run lives in DIR/<run-name>/ (metrics.jsonl, checkpoints, summary.json), its
output in DIR/logs/<run-name>.log. Running the same command again skips finished
runs and resumes interrupted ones. DIR/REPORT.md and DIR/REPORT.html are rewritten
after every run: the table beside the course's figures, the curves, and which of
the course's conclusions the numbers support. Validation data is always 1/5 of
train_size, generated with `s2s gen zero-shift`. With 1 layer, dropout does
nothing, so such runs are skipped when the dropout-0 run is in the grid.

Examples:
  s2s experiment course                         the course's study, within about an hour on 2 cores
  s2s experiment course --jobs 1                one run at a time, all cores for it
  s2s experiment --grid "layers=1,4 dropout=0,0.8 train_size=2800,14000" --epochs 50 --out runs/study
  s2s experiment --grid "hidden=64,128 lr=0.001,0.003" --epochs 20 --out runs/small
  s2s experiment course --report-only           refresh the report of what has run so far)");
  cmd->callback([flags, &ctx] {
    const report::ExperimentOptions options = to_options(*flags);
    if (flags->report_only) {
      report::refresh_report(options);
      fmt::print("experiment: report written: {}\n", (options.out / "REPORT.md").string());
      ctx.exit_code = 0;
      return;
    }
    ctx.exit_code = report::run_experiment(options, stdout);
  });
}

}  // namespace s2s::cli
