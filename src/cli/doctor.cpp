// `s2s doctor`: is the stack set up, and is the Intel optimization on?
#include <fmt/core.h>

#include <torch/torch.h>

#include "cli/commands.h"
#include "s2s/runtime.h"
#include "s2s/version.h"

namespace s2s::cli {

void add_doctor(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("doctor", "Check the stack: versions, BLAS, oneDNN, threads");
  cmd->callback([&ctx] {
    const int64_t threads = configure_runtime();
    fmt::print("{}\nthreads: {}\n", version_string(), threads);
    ctx.exit_code = 0;
  });
}

}  // namespace s2s::cli
