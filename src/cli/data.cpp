// `s2s data check FILE`: validate a data file exactly as training reads it.
#include <fmt/core.h>

#include <string>

#include "cli/commands.h"
#include "s2s/corpus.h"
#include "s2s/csv.h"
#include "s2s/vocab.h"

namespace s2s::cli {
namespace {

struct CheckFlags {
  std::string path;
  CsvReadOptions options;
};

constexpr const char* kFooter = R"(Examples:
  s2s data check data/train.csv
  s2s data check big.csv --max-length 50 --skip-bad-rows

A valid file exits 0 and prints its rows, vocabulary and sequence lengths. A bad file prints
one line naming the file and line ("train.csv:17: row has 3 fields, expected 2") and exits 2.
With --skip-bad-rows bad rows are counted and skipped, as training would with that flag.
)";

void check(const CheckFlags& f) {
  CsvReadReport report;
  const Corpus corpus = read_pairs_csv(f.path, f.options, &report);
  const CorpusStats stats = corpus_stats(corpus);
  const int64_t vocab = Vocab::from_corpus(corpus).size();
  fmt::print("{}: ok\n", f.path);
  fmt::print("rows: {}\n", stats.rows);
  if (f.options.skip_bad_rows) {
    fmt::print("skipped bad rows: {}\n", report.skipped_rows);
    for (const std::string& example : report.skipped_examples) fmt::print("  {}\n", example);
    if (report.skipped_rows > static_cast<int64_t>(report.skipped_examples.size())) {
      fmt::print("  ... and {} more\n",
                 report.skipped_rows - static_cast<int64_t>(report.skipped_examples.size()));
    }
  }
  fmt::print("vocabulary: {} tokens ({} in the data + {} special)\n", vocab,
             vocab - kNumSpecialTokens, kNumSpecialTokens);
  fmt::print("source length: min {}, max {}, mean {:.2f}\n", stats.source.min, stats.source.max,
             stats.source.mean);
  fmt::print("target length: min {}, max {}, mean {:.2f}\n", stats.target.min, stats.target.max,
             stats.target.mean);
}

}  // namespace

void add_data(CLI::App& app, Context& ctx) {
  auto* data = app.add_subcommand("data", "Inspect and validate data files");
  data->require_subcommand(1);
  auto flags = std::make_shared<CheckFlags>();
  auto* cmd = data->add_subcommand("check", "Validate a data file as training reads it");
  cmd->footer(kFooter);
  cmd->add_option("file", flags->path, "CSV file with columns source,target")->required();
  cmd->add_flag("--skip-bad-rows", flags->options.skip_bad_rows,
                "Skip malformed rows and count them instead of failing");
  cmd->add_option("--max-length", flags->options.max_length,
                  "Longest accepted source or target in tokens (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-line-bytes", flags->options.max_line_bytes,
                  "Longest accepted line in bytes")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([flags, &ctx] {
    check(*flags);
    ctx.exit_code = 0;
  });
}

}  // namespace s2s::cli
