// `s2s doctor`: is the stack set up, and is the Intel optimization on?
#include <fmt/core.h>

#include <memory>

#include "cli/commands.h"
#include "s2s/doctor.h"
#include "s2s/runtime.h"

namespace s2s::cli {
namespace {

// The long story goes in the footer: the description is also the one line `s2s --help` lists.
constexpr const char* kFooter =
    R"(What it checks, like the course's "is the Intel optimization on?":
  - versions of s2s, LibTorch, oneDNN, OpenBLAS and the compiler
  - BLAS: which library torch's sgemm_ really resolves to (and every BLAS mapped in the
    process), whether it is the slow reference BLAS, and a 512x512 sgemm GFLOP/s figure
  - oneDNN: a Conv2d + Linear net run with oneDNN verbose on, its lines captured inside the
    process: which primitives executed (convolution, inner_product, reorder) and on which ISA,
    and where each layer ran (torch's dense Linear uses BLAS; to_mkldnn runs it on oneDNN)
  - threads: torch intra-op / inter-op, OpenMP, OpenBLAS, and the variables that change them
  - autograd: a=1, b=2, x=a+a*b, y=x^2, y.backward() must give da=18, db=6
  - c10d: whether distributed training (s2s launch) can run: a Gloo device on 127.0.0.1

Exit status: 0 when every check passes; 1 when one fails (reference BLAS, oneDNN did not
run, wrong gradients), after a WARNING line that says what to do.

Examples:
  s2s doctor                    readable report, verdict on the last line
  s2s doctor --json             one JSON object: ok, versions, blas, onednn, threads, autograd
  s2s doctor --verbose          also print oneDNN's raw verbose lines
  s2s doctor --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["blas"])'
  LD_PRELOAD=/usr/lib/x86_64-linux-gnu/blas/libblas.so.3 s2s doctor
                                what a machine stuck on reference BLAS looks like (exit 1))";

struct DoctorFlags {
  bool json = false;
  bool verbose = false;
};

}  // namespace

void add_doctor(CLI::App& app, Context& ctx) {
  auto flags = std::make_shared<DoctorFlags>();
  auto* cmd = app.add_subcommand(
      "doctor", "Check the stack: BLAS, oneDNN primitives and ISA, threads, autograd");
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
