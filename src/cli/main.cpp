// s2s: the command-line program. Parses, dispatches to one command, maps errors to exit codes:
// 0 success, 1 a failed check or internal error, 2 bad input (flags, files, checkpoints).
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "s2s/error.h"
#include "s2s/runtime.h"
#include "s2s/version.h"

namespace {

using AddCommand = void (*)(CLI::App&, s2s::cli::Context&);
constexpr AddCommand kCommands[] = {
    s2s::cli::add_dashboard,  s2s::cli::add_data,   s2s::cli::add_doctor, s2s::cli::add_eval,
    s2s::cli::add_experiment, s2s::cli::add_export, s2s::cli::add_gen,    s2s::cli::add_import,
    s2s::cli::add_infer,      s2s::cli::add_launch, s2s::cli::add_plot,   s2s::cli::add_serve,
    s2s::cli::add_train,
};

constexpr const char* kFooter = R"(Examples:
  s2s doctor                      check the stack: BLAS, oneDNN, threads, autograd
  s2s gen zero-shift --train 14000 --valid 2800 --out-dir data/
                                  the course's data: data/train.csv, data/valid.csv
  s2s data check data/train.csv   validate a data file, print rows/vocabulary/lengths
  s2s train --train data/train.csv --valid data/valid.csv --out runs/gru
                                  train the course model (4-layer GRU, 256 units)
  s2s eval --model runs/gru/best.pt --data data/valid.csv
  s2s infer --model runs/gru/best.pt --input "0 0 0 5 3 8 2 7 1 4"
  s2s launch --nproc-per-node 2 -- s2s train ...
                                  data-parallel training on 2 processes (README)
  s2s dashboard runs/             live training charts on http://127.0.0.1:8050/
  s2s serve --model gru=runs/gru/best.pt
                                  an HTTP translation API on http://127.0.0.1:8080/
  s2s plot runs/gru -o gru.png    the same charts as a PNG or SVG image
  s2s experiment course           the course's analysis: 6 runs and a report
  s2s <command> --help            flags and examples of one command

The course's experiment end to end: scripts/course (see README.md).)";

}  // namespace

int main(int argc, char** argv) {
  s2s::isolate_signals();  // before any thread exists, so that all of them inherit the mask
  CLI::App app{"s2s: train and run RNN sequence-to-sequence models (GRU, LSTM, RNN) on CPUs.",
               "s2s"};
  app.set_version_flag("--version", s2s::version_string());
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough(false);

  s2s::cli::Context ctx;
  for (AddCommand add : kCommands) add(app, ctx);

  // CLI11 would read an unknown command as a stray argument and then complain that a
  // subcommand is required; name the word the user typed instead.
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const CLI::App* command : app.get_subcommands({})) {
      known = known || command->check_name(argv[1]);
      names += (names.empty() ? "" : ", ") + command->get_name();
    }
    if (!known) {
      fmt::print(stderr, "s2s: error: unknown command '{}' (commands: {})\n", argv[1], names);
      fmt::print(stderr, "Run with --help for usage.\n");
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Bad flags are bad input: one line naming the flag, then exit 2. CLI11 checks required
    // flags before unknown ones, so a misspelt `--modle` would be reported as "--model is
    // required"; the word the user typed is the better clue.
    std::string message = e.what();
    for (const CLI::App* command : app.get_subcommands()) {
      const std::vector<std::string> unknown = command->remaining();
      if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && !unknown.empty()) {
        message = "unknown flag or argument: " + unknown.front();
      }
    }
    fmt::print(stderr, "s2s: error: {}\nRun with --help for usage.\n", message);
    return 2;
  } catch (const s2s::Error& e) {
    fmt::print(stderr, "s2s: error: {}\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    fmt::print(stderr, "s2s: internal error: {}\n", e.what());
    return 1;
  }
  return ctx.exit_code;
}
