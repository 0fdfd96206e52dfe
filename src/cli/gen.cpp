// `s2s gen TASK`: write a synthetic task's pairs as a data file (or the course's split).
#include <fmt/core.h>

#include <filesystem>
#include <string>

#include "cli/commands.h"
#include "s2s/csv.h"
#include "s2s/error.h"
#include "s2s/tasks.h"

namespace s2s::cli {
namespace {

struct GenFlags {
  std::string task;
  int64_t count = -1;
  std::string output;
  int64_t train = -1;
  int64_t valid = -1;
  std::string out_dir;
  TaskOptions options;
  uint64_t seed = 1;
};

constexpr const char* kFooter = R"(Tasks:
  zero-shift   move the one run of 3 or 4 zeros right by its own length (the course's task)
  copy         repeat the digits unchanged
  reverse      repeat the digits in reverse order
  sort         repeat the digits sorted ascending

Examples:
  s2s gen zero-shift --count 1000 --length 10 --seed 7 -o data.csv
  s2s gen zero-shift --train 14000 --valid 2800 --seed 1 --out-dir data/
        the course's split: data/train.csv and data/valid.csv, no source in both
  s2s gen sort --count 500 --length 12 --min-length 4 -o - | head
        variable lengths 4..12, printed to stdout

The same task, flags and seed always give the same bytes.
)";

void run(const GenFlags& f) {
  const bool single = f.count >= 0 || !f.output.empty();
  const bool split = f.train >= 0 || f.valid >= 0 || !f.out_dir.empty();
  if (single == split) {
    throw Error("give either --count N -o FILE, or --train N --valid M --out-dir DIR");
  }
  if (single) {
    if (f.count < 0 || f.output.empty()) throw Error("--count and -o go together");
    const auto pairs = generate_task(f.task, f.count, f.options, f.seed);
    if (f.output == "-") {
      fmt::print("{}", format_pairs_csv(pairs));
      return;
    }
    write_pairs_csv(f.output, pairs);
    fmt::print("wrote {} {} pairs to {}\n", pairs.size(), f.task, f.output);
    return;
  }
  if (f.train < 0 || f.valid < 0 || f.out_dir.empty()) {
    throw Error("--train, --valid and --out-dir go together");
  }
  const TaskSplit data = generate_task_split(f.task, f.train, f.valid, f.options, f.seed);
  std::error_code ec;
  std::filesystem::create_directories(f.out_dir, ec);
  if (ec) throw Error(fmt::format("{}: cannot create directory: {}", f.out_dir, ec.message()));
  const std::string train_path = (std::filesystem::path(f.out_dir) / "train.csv").string();
  const std::string valid_path = (std::filesystem::path(f.out_dir) / "valid.csv").string();
  write_pairs_csv(train_path, data.train);
  write_pairs_csv(valid_path, data.valid);
  fmt::print("wrote {} {} pairs to {}\nwrote {} {} pairs to {} (no source also in training)\n",
             data.train.size(), f.task, train_path, data.valid.size(), f.task, valid_path);
}

}  // namespace

void add_gen(CLI::App& app, Context& ctx) {
  auto flags = std::make_shared<GenFlags>();
  auto* cmd = app.add_subcommand("gen", "Generate a synthetic task's data file(s)");
  cmd->footer(kFooter);
  cmd->add_option("task", flags->task, "zero-shift, copy, reverse or sort")
      ->required()
      ->check(CLI::IsMember(task_names()));
  cmd->add_option("--count", flags->count, "Pairs to write to -o");
  cmd->add_option("-o,--output", flags->output, "Output CSV file ('-' for stdout)");
  cmd->add_option("--train", flags->train, "Training pairs (with --valid and --out-dir)");
  cmd->add_option("--valid", flags->valid, "Validation pairs, sources disjoint from training");
  cmd->add_option("--out-dir", flags->out_dir, "Directory for train.csv and valid.csv");
  cmd->add_option("--length", flags->options.length, "Tokens per source")->capture_default_str();
  cmd->add_option("--min-length", flags->options.min_length,
                  "copy/reverse/sort: draw each length from [min-length, length]");
  cmd->add_option("--seed", flags->seed, "Random seed (same seed, same bytes)")
      ->capture_default_str();
  cmd->callback([flags, &ctx] {
    run(*flags);
    ctx.exit_code = 0;
  });
}

}  // namespace s2s::cli
