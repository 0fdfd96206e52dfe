// Every subcommand of the CLI. Each lives in its own file (src/cli/<name>.cpp), parses its
// flags, calls the library and prints. No logic lives here: what a command does is testable
// through the library without a process.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace s2s::cli {

// Shared by all commands: the exit status the chosen command asks for.
struct Context {
  int exit_code = 0;
};

// --precision of eval and infer (train has its own wording: it also trains in it).
inline constexpr const char* kInferencePrecisionHelp =
    "RNN arithmetic for decoding, f32 or bf16 (needs AVX-512): bf16 rounds activations and "
    "weights to bfloat16 for the recurrent matmuls; the checkpoint's weights are f32 whichever "
    "precision trained them. Speed and accuracy measured: docs/PERFORMANCE.md (bf16) [f32]";

// --threads of train, eval and serve (the rule: src/runtime/auto_threads.cpp).
inline constexpr const char* kThreadsHelp =
    "Compute threads: auto (or 0) = one per core that is idle at start-up (a core another "
    "process keeps busy would stall the others at every step; train logs what it chose), or a "
    "count [auto]";
// A --threads option that also reads "auto" (as 0, the runtime's automatic choice).
inline CLI::Option* accepting_auto_threads(CLI::Option* threads) {
  return threads->transform(CLI::Transformer({{"auto", "0"}}));
}

// --model of eval and infer: required, given once, or several times for an ensemble.
inline CLI::Option* add_model_paths(CLI::App* cmd, std::vector<std::string>& paths,
                                    const std::string& help) {
  return cmd->add_option("--model", paths, help)
      ->required()
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

// add_<name>(app, ctx) registers one subcommand. Keep this list sorted; add yours here and in
// kCommands (main.cpp).
void add_dashboard(CLI::App& app, Context& ctx);
void add_data(CLI::App& app, Context& ctx);
void add_doctor(CLI::App& app, Context& ctx);
void add_eval(CLI::App& app, Context& ctx);
void add_experiment(CLI::App& app, Context& ctx);
void add_export(CLI::App& app, Context& ctx);
void add_gen(CLI::App& app, Context& ctx);
void add_import(CLI::App& app, Context& ctx);
void add_infer(CLI::App& app, Context& ctx);
void add_launch(CLI::App& app, Context& ctx);
void add_plot(CLI::App& app, Context& ctx);
void add_serve(CLI::App& app, Context& ctx);
void add_train(CLI::App& app, Context& ctx);

}  // namespace s2s::cli
