// `s2s infer`: greedy or beam-search decoding with the course's Call/True/Resp/Accuracy
// printout (and the n best hypotheses with their scores).
#include <fmt/core.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/search_flags.h"
#include "s2s/csv.h"
#include "s2s/decode.h"
#include "s2s/error.h"
#include "s2s/runtime.h"

namespace s2s::cli {
namespace {

constexpr const char* kFooter = R"(Input, one of:
  --input "0 0 0 5 3 8 2 7 1 4"    one sequence (tokens separated by spaces)
  --data FILE [--show N]           a CSV with source,target: prints N examples, then the
                                   exact-match Accuracy over the whole file, row by row
                                   (s2s eval scores a source with several targets once)
  (neither)                        one sequence per line on standard input

With --n-best N (N > 1) each source gets N lines "Resp K (score S, log-prob L): ...", best
first: L is the summed log-probability of the tokens and <eos>, S is L after the length
penalty (what ranks them). A response cut at the maximum length ends in "[cut]".

Examples:
  s2s infer --model runs/course/best.pt --input "0 0 0 5 3 8 2 7 1 4"
  s2s infer --model runs/g2p/best.pt --input "h e l l o" --beam 5 --n-best 3
        the three best pronunciations, with their scores
  s2s infer --model runs/g2p/best.pt --data g2p/test.csv --beam 5 --length-penalty wu:1
  s2s infer --model runs/g2p-a/best.pt --model runs/g2p-b/best.pt --input "h e l l o" --beam 5
        an ensemble of two models
  s2s infer --model runs/course/best.pt --data data/valid.csv --show 5
  s2s infer --model runs/course/best.pt --data data/valid.csv --precision bf16
  printf '1 2 0 0 0 4 5 6 7 8\n' | s2s infer --model runs/course/best.pt
)";

struct InferFlags {
  std::vector<std::string> models;
  std::string input;
  std::string data;
  int64_t show = 5;
  int64_t batch = 512;
  std::string precision = "f32";
  SearchFlags search;
};

std::vector<std::string> split(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> tokens;
  for (std::string t; in >> t;) tokens.push_back(t);
  return tokens;
}

std::string join(const std::vector<std::string>& tokens) {
  std::string s;
  for (const auto& t : tokens) s += (s.empty() ? "" : " ") + t;
  return s;
}

// "Resp: ..." for the best hypothesis alone; with n_best > 1 one numbered line per hypothesis.
void print_responses(const std::vector<Prediction>& predictions, int64_t n_best) {
  if (n_best == 1) {
    fmt::print("Resp: {}\n", join(predictions.front().tokens));
    return;
  }
  for (size_t k = 0; k < predictions.size(); ++k) {
    const Prediction& p = predictions[k];
    fmt::print("Resp {} (score {:.4f}, log-prob {:.4f}): {}{}\n", k + 1, p.score, p.log_prob,
               join(p.tokens), p.ended ? "" : " [cut]");
  }
}

void run(const InferFlags& f) {
  if (!f.input.empty() && !f.data.empty()) throw Error("give --input or --data, not both");
  const SearchOptions search = f.search.parse();
  configure_runtime();
  Predictor predictor(f.models, parse_precision(f.precision));
  if (!f.data.empty()) {
    const Corpus corpus = read_pairs_csv(f.data);
    std::vector<std::vector<std::string>> sources;
    for (size_t i = 0; i < corpus.size(); ++i) sources.push_back(corpus.source_tokens(i));
    const auto responses = predictor.predict_n_best(sources, search, f.batch);
    int64_t right = 0;
    for (size_t i = 0; i < corpus.size(); ++i) {
      const auto target = corpus.target_tokens(i);
      right += responses[i].front().tokens == target;
      if (static_cast<int64_t>(i) < f.show) {
        fmt::print("Call: {}\nTrue: {}\n", join(sources[i]), join(target));
        print_responses(responses[i], search.n_best);
      }
    }
    fmt::print("Accuracy: {:.4f} ({}/{})\n", static_cast<double>(right) / corpus.size(), right,
               corpus.size());
    return;
  }
  std::vector<std::vector<std::string>> sources;
  if (!f.input.empty()) {
    sources.push_back(split(f.input));
  } else {
    for (std::string line; std::getline(std::cin, line);) {
      if (!split(line).empty()) sources.push_back(split(line));
    }
  }
  const auto responses = predictor.predict_n_best(sources, search, f.batch);
  for (size_t i = 0; i < sources.size(); ++i) {
    fmt::print("Call: {}\n", join(sources[i]));
    print_responses(responses[i], search.n_best);
  }
  if (predictor.unknown_tokens() > 0) {
    fmt::print(stderr, "note: {} input tokens are not in the model's vocabulary (read as <unk>)\n",
               predictor.unknown_tokens());
  }
}

}  // namespace

void add_infer(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<InferFlags>();
  auto* cmd = app.add_subcommand("infer", "Decode sequences with a trained model (greedy or beam)");
  cmd->footer(kFooter);
  add_model_paths(cmd, f->models,
                  "Checkpoint (DIR/best.pt); repeat it to decode with an ensemble of models "
                  "trained on the same data (their probabilities averaged at every step)");
  cmd->add_option("--input", f->input, "One source sequence, tokens separated by spaces");
  cmd->add_option("--data", f->data, "CSV with source,target");
  cmd->add_option("--show", f->show, "Examples to print with --data [5]");
  cmd->add_option("--batch", f->batch,
                  "Sources decoded together (results do not depend on it) [512]");
  add_search_flags(cmd, f->search, true);
  cmd->add_option("--precision", f->precision, kInferencePrecisionHelp);
  cmd->callback([f, &ctx] {
    run(*f);
    ctx.exit_code = 0;
  });
}

}  // namespace s2s::cli
