// `s2s dashboard`: serve the live training page for directories of runs.
#include <fmt/core.h>

#include "cli/commands.h"
#include "s2s/dashboard.h"

namespace s2s::cli {

void add_dashboard(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "dashboard", "Serve live training charts (loss, token and sequence accuracy) in a browser");
  static std::vector<std::string> dirs;
  static DashboardOptions options;
  cmd->add_option("RUNS_DIR", dirs, "Run directories, or directories holding runs (default: runs)");
  cmd->add_option("--port", options.port, "TCP port; 0 picks a free one")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--host", options.host,
                  "Address to listen on. Anything but loopback exposes your runs to the network")
      ->capture_default_str();
  cmd->footer(R"(The page lists the runs found in RUNS_DIR (a run is a directory with metrics.jsonl
or config.json, up to two levels deep), charts the selected ones on shared axes, and
updates within a second or two while `s2s train` appends epochs. Read-only.

Examples:
  s2s dashboard runs/                      every run under runs/, on http://127.0.0.1:8050/
  s2s dashboard runs/gru runs/lstm --port 9000
  s2s dashboard runs/ --host 0.0.0.0       reachable from other machines (warns))");
  cmd->callback([&ctx] {
    options.run_roots.assign(dirs.begin(), dirs.end());
    if (options.run_roots.empty()) options.run_roots.emplace_back("runs");
    if (!is_loopback_host(options.host)) {
      fmt::print(stderr,
                 "s2s: warning: listening on {}: anyone who can reach this address can read "
                 "your runs' metrics and configs\n",
                 options.host);
    }
    auto dashboard = start_dashboard(options);
    fmt::print("dashboard: {}  (Ctrl-C to stop)\n", dashboard->url());
    std::fflush(stdout);
    dashboard->wait();
    ctx.exit_code = 0;
  });
}

}  // namespace s2s::cli
