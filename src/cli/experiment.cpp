// `s2s experiment`: the course's analysis, or any grid over the training flags on generated data
// or on the user's own files, in one command.
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
  int threads = 0;
  int64_t data_seed = 1;
  bool report_only = false;
  std::string train;  // the user's data
  std::string valid;
  std::string test;
  std::string metric;
};

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

report::ExperimentOptions to_options(const ExperimentFlags& f) {
  if (f.what == "course" && !f.grid.empty())
    throw Error("experiment: give either `course` or --grid, not both");
  if (f.what.empty() && f.grid.empty())
    throw Error("experiment: say what to run: `s2s experiment course` or --grid \"...\"");
  if (f.what.empty() && f.out.empty()) throw Error("experiment: --grid needs --out DIR");
  if (f.epochs == 0) throw Error("--epochs must be at least 1");
  if (f.what == "course" && !f.train.empty())
    throw Error("experiment: `course` generates its data; use --grid with --train");
  if (f.train.empty() != f.valid.empty())
    throw Error("experiment: --train and --valid go together (the runs validate on --valid)");
  if (f.train.empty() && !f.test.empty())
    throw Error("experiment: --test needs --train and --valid");
  if (f.train.empty() && !f.metric.empty())
    throw Error("experiment: --metric ranks runs on --valid: it needs --train and --valid");
  const std::filesystem::path out = f.out.empty() ? "runs/experiment-course" : f.out;

  report::ExperimentOptions o;
  if (f.what == "course") {
    o = report::course_options(out);
  } else {
    o.grid_text = f.grid;
    o.grid = report::parse_grid(f.grid);
    o.out = out;
  }
  o.train_file = f.train;
  o.valid_file = f.valid;
  o.test_file = f.test;
  if (!f.metric.empty()) o.metric = report::parse_metric(f.metric);
  if (f.epochs > 0) o.epochs = f.epochs;
  if (f.patience >= 0) o.patience = f.patience;
  o.jobs = f.jobs;
  o.threads = f.threads;
  o.data_seed = f.data_seed;
  o.s2s = std::filesystem::read_symlink("/proc/self/exe");

  std::string cmd = "s2s experiment";
  cmd += o.name == "course" ? " course" : fmt::format(" --grid \"{}\"", o.grid_text);
  if (o.user_data()) {
    cmd += fmt::format(" --train {} --valid {}", o.train_file.string(), o.valid_file.string());
    if (!o.test_file.empty()) cmd += fmt::format(" --test {}", o.test_file.string());
    if (!f.metric.empty()) cmd += fmt::format(" --metric {}", f.metric);
  }
  cmd += fmt::format(" --out {}", o.out.string());
  if (o.epochs > 0) cmd += fmt::format(" --epochs {}", o.epochs);
  if (o.patience >= 0) cmd += fmt::format(" --patience {}", o.patience);
  if (o.jobs > 0) cmd += fmt::format(" --jobs {}", o.jobs);
  if (o.threads > 0) cmd += fmt::format(" --threads {}", o.threads);
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
  cmd->add_option(
      "--grid", flags->grid,
      "Runs to train: space-separated key=v1,v2 axes. Keys: " + join(report::grid_keys()) +
          ". All but the last three are the `s2s train` settings (flag spellings "
          "such as rnn-impl work too); train_size: generated pairs, or a seeded "
          "subset of --train; beam and length_penalty: applied when evaluating, "
          "without retraining (with --train only)");
  cmd->add_option("--train", flags->train,
                  "Your training data (CSV source,target): every run trains on it, or on a "
                  "seeded subset of it when the grid has train_size");
  cmd->add_option("--valid", flags->valid,
                  "Your validation data: each run validates on it, and the runs are ranked by "
                  "--metric on it");
  cmd->add_option("--test", flags->test,
                  "Your test data (optional): every configuration is evaluated on it too; shown "
                  "in the report, never used to choose");
  cmd->add_option("--metric", flags->metric,
                  "What ranks the runs (with --train), on --valid: " +
                      join(report::metric_names()) + " [sentence_error_rate]");
  cmd->add_option("--out", flags->out,
                  "Experiment directory: one sub-directory per run, data/, REPORT.md "
                  "(default for course: runs/experiment-course)");
  cmd->add_option("--epochs", flags->epochs, "Most epochs per run (course default: 500)");
  cmd->add_option(
      "--patience", flags->patience,
      "Stop a run after N epochs without a lower validation loss, 0 = never (course default: 0)");
  cmd->add_option("--jobs", flags->jobs,
                  "Runs trained at once, the cores split among them (default: one run per core, "
                  "one thread each)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", flags->threads,
                  "Threads per run (default: the cores divided among the --jobs)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--data-seed", flags->data_seed,
                  "Seed of the generated datasets, or of the shuffle train_size subsets of "
                  "--train are taken from [1]");
  cmd->add_flag("--report-only", flags->report_only,
                "Only rewrite REPORT.md/.html from the run directories; train nothing");
  cmd->footer(R"(Each run lives in DIR/<run-name>/ (metrics.jsonl, checkpoints, summary.json), its
output in DIR/logs/<run-name>.log. Running the same command again skips finished
runs and evaluations and resumes interrupted runs. DIR/REPORT.md and DIR/REPORT.html
are rewritten after every run. With 1 layer, dropout does nothing, so such runs are
skipped when the dropout-0 run is in the grid.

Generated data (no --train): validation data is 1/5 of train_size, generated with
`s2s gen zero-shift`; the report puts the table beside the course's figures, with
the curves and which of the course's conclusions the numbers support.

Your data (--train, --valid, [--test]): train_size=N takes the first N rows of one
shuffle of --train seeded by --data-seed (DIR/data/nN/train.csv), so a smaller subset
lies inside a larger one. Each trained run's best.pt is evaluated with `s2s eval` on
--valid and --test, once per beam/length_penalty combination: runs that differ only
in those share one training (DIR/<run>/eval/). The report ranks every configuration
by --metric on --valid:
  sentence_error_rate  distinct sources decoded to none of their targets (default)
  token_error_rate     edit distance to the closest target over its length
  exact_match          greedy decoding equals the row's target (higher is better)
  token_acc            greedy decoding, per target token (higher is better)
  loss                 teacher-forced NLL per target token
and ends with the best configuration as ready-to-run `s2s train` and `s2s eval`
commands.

Examples:
  s2s experiment course                         the course's study, ~35 minutes on 2 cores
  s2s experiment course --jobs 1                one run at a time, all cores for it
  s2s experiment --grid "layers=1,4 dropout=0,0.8 train_size=2800,14000" --epochs 50 --out runs/study
  s2s experiment --grid "hidden=64,128 lr=0.001,0.003" --epochs 20 --out runs/small
  s2s experiment course --report-only           refresh the report of what has run so far
  s2s experiment --train g2p/train.csv --valid g2p/valid.csv --test g2p/test.csv \
      --grid "train_size=2000,8000 hidden=64,128 beam=1,5 attention=general" \
      --epochs 5 --out runs/g2p-study
        a data-size and model-size study on your data, beam 1 against 5 on each model)");
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
