// `s2s eval`: loss, accuracy and error rates of a checkpoint on a data file.
#include <fmt/core.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/search_flags.h"
#include "s2s/cell.h"
#include "s2s/decode.h"

namespace s2s::cli {
namespace {

constexpr const char* kFooter =
    R"(Loss is teacher-forced NLL per target token; token and sequence accuracy come from
free-running greedy decoding for at most each target's length, row by row, exactly as
validation during training.

Error rates come from decoding with the search flags (--beam, --length-penalty, ...), once
per distinct source: a source on several rows (a word with two pronunciations) is one
sentence whose targets are all references. The sentence error rate is the share of sentences
whose hypothesis equals none of them; the token error rate is the edit distance to the closest
reference, summed, over those references' lengths: PER over phones, CER over letters, WER
over words.

Ensembles: --model given several times decodes with all the models as one (trained on the
same data, so they share a vocabulary): at every step the next token's probabilities are the
mean of the models'. The error rates are the ensemble's; loss and accuracies are one model's
idea, so they are printed as "-" (null in --json).

Examples:
  s2s eval --model runs/course/best.pt --data data/valid.csv
  s2s eval --model runs/course/best.pt --data data/valid.csv --json | jq .seq_acc
  s2s eval --model runs/g2p/best.pt --data g2p/test.csv --beam 5 --length-penalty wu:1
        word error rate (sentence_error_rate) and phone error rate with beam search
  s2s eval --model runs/g2p-a/best.pt --model runs/g2p-b/best.pt --data g2p/test.csv --beam 5
        two models trained side by side, one per core, decoding as an ensemble
  s2s eval --model runs/course/best.pt --data data/valid.csv --precision bf16
        the same model with bf16 RNN matmuls (any checkpoint: its weights are f32)
)";

struct EvalFlags {
  std::vector<std::string> models;
  std::string data;
  bool json = false;
  EvalOptions options;
  std::string precision = "f32";
  SearchFlags search;
};

void print(const EvalReport& r, const EvalOptions& o, bool json) {
  const ErrorRates& e = r.errors;
  if (json) {
    fmt::print("{}\n", nlohmann::json{{"models", r.models},
                                      {"loss", r.loss},
                                      {"token_acc", r.token_acc},
                                      {"seq_acc", r.seq_acc},
                                      {"rows", r.rows},
                                      {"sentences", e.sentences},
                                      {"token_error_rate", e.token_error_rate()},
                                      {"token_errors", e.token_errors},
                                      {"reference_tokens", e.reference_tokens},
                                      {"sentence_error_rate", e.sentence_error_rate()},
                                      {"wrong_sentences", e.wrong_sentences},
                                      {"beam", o.search.beam},
                                      {"length_penalty", o.search.length_penalty.to_string()},
                                      {"unknown_tokens", r.unknown_tokens},
                                      {"unknown_rows", r.unknown_rows}}
                           .dump());
    return;
  }
  const auto number = [](double x, int digits) {
    return std::isnan(x) ? std::string("-") : fmt::format("{:.{}f}", x, digits);
  };
  fmt::print(
      "{}rows: {}\nloss: {}\ntoken accuracy: {}\nsequence accuracy: {}\n"
      "sentences (distinct sources): {}\n"
      "token error rate: {:.4f} ({} edits / {} reference tokens; beam {}, length penalty {})\n"
      "sentence error rate: {:.4f} ({}/{})\n"
      "unknown tokens: {}{}\n",
      r.models > 1 ? fmt::format("ensemble of {} models\n", r.models) : "", r.rows,
      number(r.loss, 6), number(r.token_acc, 4), number(r.seq_acc, 4), e.sentences,
      e.token_error_rate(), e.token_errors, e.reference_tokens, o.search.beam,
      o.search.length_penalty.to_string(), e.sentence_error_rate(), e.wrong_sentences, e.sentences,
      r.unknown_tokens, r.unknown_note.empty() ? "" : " (" + r.unknown_note + ")");
}

}  // namespace

void add_eval(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<EvalFlags>();
  auto* cmd = app.add_subcommand("eval", "Evaluate a checkpoint on a data file");
  cmd->footer(kFooter);
  add_model_paths(cmd, f->models,
                  "Checkpoint (DIR/best.pt or DIR/last.pt); repeat it to evaluate an ensemble "
                  "(see below)");
  cmd->add_option("--data", f->data, "CSV file with source,target")->required();
  cmd->add_flag("--json", f->json, "Print one JSON object");
  cmd->add_option("--batch", f->options.batch,
                  "Rows per batch for the loss, sentences per batch for decoding (the error rates "
                  "do not depend on it) [512]");
  accepting_auto_threads(cmd->add_option("--threads", f->options.threads, kThreadsHelp));
  cmd->add_option("--precision", f->precision, kInferencePrecisionHelp);
  add_search_flags(cmd, f->search, false);
  cmd->callback([f, &ctx] {
    EvalOptions o = f->options;
    o.precision = parse_precision(f->precision);
    o.search = f->search.parse();
    print(evaluate_file(f->models, f->data, o), o, f->json);
    ctx.exit_code = 0;
  });
}

}  // namespace s2s::cli
