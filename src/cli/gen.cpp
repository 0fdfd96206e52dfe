// `s2s gen TASK`: write a synthetic task's pairs as a data file (or the course's split), or
// `s2s gen g2p`: the CMU pronouncing dictionary as grapheme-to-phoneme train/valid/test files.
#include <fmt/core.h>

#include <filesystem>
#include <string>

#include "cli/commands.h"
#include "s2s/csv.h"
#include "s2s/error.h"
#include "s2s/g2p.h"
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
  std::string dict;  // g2p only
  G2pSplitOptions g2p;
};

constexpr const char* kFooter = R"(Tasks:
  zero-shift   move the one run of 3 or 4 zeros right by its own length (the course's task)
  copy         repeat the digits unchanged
  reverse      repeat the digits in reverse order
  sort         repeat the digits sorted ascending
  g2p          grapheme-to-phoneme pairs from the CMU pronouncing dictionary (--dict): source
               the word's letters ("h e l l o"), target its phones without stress
               ("HH AH L OW"); alternates word(2)... are more rows of the same word. Split BY
               WORD into train.csv, valid.csv and test.csv: all pronunciations of a word land
               in the same file. Debian: apt-get install pocketsphinx-en-us

Examples:
  s2s gen zero-shift --count 1000 --length 10 --seed 7 -o data.csv
  s2s gen zero-shift --train 14000 --valid 2800 --seed 1 --out-dir data/
        the course's split: data/train.csv and data/valid.csv, no source in both
  s2s gen sort --count 500 --length 12 --min-length 4 -o - | head
        variable lengths 4..12, printed to stdout
  s2s gen g2p --dict /usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict --out-dir g2p/
        5% of the words to test.csv, 5% to valid.csv, the rest to train.csv (seed 1)

The same task, flags and seed always give the same bytes.
)";

std::string path_in(const std::string& dir, const char* file) {
  return (std::filesystem::path(dir) / file).string();
}

void create_directory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("{}: cannot create directory: {}", dir, ec.message()));
}

void run_g2p(const GenFlags& f) {
  if (f.dict.empty() || f.out_dir.empty()) throw Error("g2p needs --dict FILE and --out-dir DIR");
  if (f.count >= 0 || !f.output.empty() || f.train >= 0 || f.valid >= 0) {
    throw Error(
        "g2p writes train/valid/test by word fractions: --count, -o, --train and --valid "
        "do not apply");
  }
  G2pSplitOptions options = f.g2p;
  options.seed = f.seed;
  const auto entries = read_cmudict(f.dict);
  const G2pSplit split = split_by_word(entries, options);
  create_directory(f.out_dir);
  const struct {
    const char* file;
    const std::vector<Pair>& pairs;
    int64_t words;
  } parts[] = {{"train.csv", split.train, split.train_words},
               {"valid.csv", split.valid, split.valid_words},
               {"test.csv", split.test, split.test_words}};
  for (const auto& part : parts) {
    const std::string path = path_in(f.out_dir, part.file);
    write_pairs_csv(path, part.pairs);
    fmt::print("wrote {} pronunciations of {} words to {}\n", part.pairs.size(), part.words, path);
  }
}

void run(const GenFlags& f) {
  if (f.task == "g2p") return run_g2p(f);
  if (!f.dict.empty()) throw Error("--dict applies to g2p only");
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
  create_directory(f.out_dir);
  const std::string train_path = path_in(f.out_dir, "train.csv");
  const std::string valid_path = path_in(f.out_dir, "valid.csv");
  write_pairs_csv(train_path, data.train);
  write_pairs_csv(valid_path, data.valid);
  fmt::print("wrote {} {} pairs to {}\nwrote {} {} pairs to {} (no source also in training)\n",
             data.train.size(), f.task, train_path, data.valid.size(), f.task, valid_path);
}

}  // namespace

void add_gen(CLI::App& app, Context& ctx) {
  auto flags = std::make_shared<GenFlags>();
  auto* cmd = app.add_subcommand("gen", "Generate a synthetic task's data file(s), or G2P data");
  cmd->footer(kFooter);
  std::vector<std::string> names = task_names();
  names.push_back("g2p");
  cmd->add_option("task", flags->task, "zero-shift, copy, reverse, sort or g2p")
      ->required()
      ->check(CLI::IsMember(names));
  cmd->add_option("--count", flags->count, "Pairs to write to -o");
  cmd->add_option("-o,--output", flags->output, "Output CSV file ('-' for stdout)");
  cmd->add_option("--train", flags->train, "Training pairs (with --valid and --out-dir)");
  cmd->add_option("--valid", flags->valid, "Validation pairs, sources disjoint from training");
  cmd->add_option("--out-dir", flags->out_dir,
                  "Directory for train.csv and valid.csv (g2p: and test.csv)");
  cmd->add_option("--dict", flags->dict, "g2p: the CMU dictionary file");
  cmd->add_option("--valid-fraction", flags->g2p.valid_fraction, "g2p: share of words in valid")
      ->capture_default_str();
  cmd->add_option("--test-fraction", flags->g2p.test_fraction, "g2p: share of words in test")
      ->capture_default_str();
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
