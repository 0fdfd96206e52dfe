// `s2s plot`: training curves of one or more runs as a PNG or SVG image.
#include <fmt/core.h>

#include "cli/commands.h"
#include "s2s/error.h"
#include "s2s/plot.h"

namespace s2s::cli {

void add_plot(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "plot", "Draw loss, token and sequence accuracy per epoch of runs as a PNG or SVG image");
  static std::vector<std::string> dirs;
  static std::string out;
  static PlotOptions options;
  cmd->add_option("RUN_DIR", dirs, "Run directories (with metrics.jsonl), overlaid in one image")
      ->required();
  cmd->add_option("-o,--output", out, "Image to write: FILE.png or FILE.svg")->required();
  cmd->add_option("--width", options.width, "Width in pixels")->capture_default_str();
  cmd->add_option("--height", options.height, "Height in pixels")->capture_default_str();
  cmd->footer(R"(Train curves are dashed, validation solid, one colour per run. The best epoch
(lowest validation loss, or summary.json's best_epoch) is a dotted line with a dot; the
overfitting epoch (summary.json, or validation loss not improved for `patience` epochs)
is a long-dashed line.

Examples:
  s2s plot runs/gru -o gru.png
  s2s plot runs/gru runs/lstm -o compare.svg
  s2s plot runs/* -o all.png --width 2000 --height 700)");
  cmd->callback([&ctx] {
    std::vector<PlotRun> runs;
    for (const auto& dir : dirs) {
      PlotRun run{load_run(dir), {}, {}};
      run.epochs = read_metrics(run.info.metrics_path());
      run.steps = read_steps(run.info.steps_path());
      if (run.epochs.empty()) throw Error(dir + "/metrics.jsonl: no epochs to plot");
      runs.push_back(std::move(run));
    }
    plot_runs(runs, out, options);
    fmt::print("wrote {} ({} run{}, {}x{})\n", out, runs.size(), runs.size() == 1 ? "" : "s",
               options.width, options.height);
    ctx.exit_code = 0;
  });
}

}  // namespace s2s::cli
