// `s2s doctor`: is the stack set up, and is the Intel optimization on?
#include <fmt/core.h>

#include <memory>

#include "cli/commands.h"
#include "s2s/doctor.h"
#include "s2s/runtime.h"

namespace s2s::cli {
namespace {

constexpr const char* kDescription =
    "Check the stack like the course does: versions, which BLAS torch's matrix multiplies "
    "really call (and how fast), threads, a Conv2d + Linear net run with oneDNN verbose on "
    "(which primitives executed, on which ISA), and the autograd example (da=18, db=6).\n"
    "Exit status: 0 when every check passes; 1 when one fails (reference BLAS, oneDNN did "
    "not run, wrong gradients), with a WARNING line saying what to do.";

constexpr const char* kFooter = R"(Examples:
  s2s doctor                    readable report, verdict on the last line
  s2s doctor --json             one JSON object: ok, versions, blas, onednn, threads, autograd
  s2s doctor --verbose          also print oneDNN's raw verbose lines
  s2s doctor --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["blas"])'
  OMP_NUM_THREADS=1 s2s doctor  see how the thread counts follow the environment)";

struct DoctorFlags {
  bool json = false;
  bool verbose = false;
};

}  // namespace

void add_doctor(CLI::App& app, Context& ctx) {
  auto flags = std::make_shared<DoctorFlags>();
  auto* cmd = app.add_subcommand("doctor", "Check the stack: versions, BLAS, oneDNN, threads");
  cmd->description(kDescription);
  cmd->footer(kFooter);
  cmd->add_flag("--json", flags->json, "Print one JSON object instead of text");
  cmd->add_flag("--verbose", flags->verbose, "Include oneDNN's raw verbose lines");
  cmd->callback([flags, &ctx] {
    configure_runtime();
    const DoctorReport report = run_doctor();
    const std::string text = flags->json ? format_doctor_json(report, flags->verbose)
                                         : format_doctor_text(report, flags->verbose);
    fmt::print("{}\n", text);
    std::fflush(stdout);
    ctx.exit_code = report.ok ? 0 : 1;
  });
}

}  // namespace s2s::cli
