// `s2s infer`: greedy decoding with the course's Call/True/Resp/Accuracy printout.
#include <fmt/core.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "s2s/csv.h"
#include "s2s/decode.h"
#include "s2s/error.h"
#include "s2s/runtime.h"

namespace s2s::cli {
namespace {

constexpr const char* kFooter = R"(Input, one of:
  --input "0 0 0 5 3 8 2 7 1 4"    one sequence (tokens separated by spaces)
  --data FILE [--show N]           a CSV with source,target: prints N examples, then the
                                   exact-match Accuracy over the whole file
  (neither)                        one sequence per line on standard input

Examples:
  s2s infer --model runs/course/best.pt --input "0 0 0 5 3 8 2 7 1 4"
  s2s infer --model runs/course/best.pt --data data/valid.csv --show 5
  s2s infer --model runs/course/best.pt --data data/valid.csv --precision bf16
  printf '1 2 0 0 0 4 5 6 7 8\n' | s2s infer --model runs/course/best.pt
)";

struct InferFlags {
  std::string model;
  std::string input;
  std::string data;
  int64_t show = 5;
  int64_t max_len = 0;
  std::string precision = "f32";
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

void run(const InferFlags& f) {
  if (!f.input.empty() && !f.data.empty()) throw Error("give --input or --data, not both");
  configure_runtime();
  Predictor predictor(f.model, parse_precision(f.precision));
  if (!f.data.empty()) {
    const Corpus corpus = read_pairs_csv(f.data);
    std::vector<std::vector<std::string>> sources;
    int64_t longest_target = 0;
    for (size_t i = 0; i < corpus.size(); ++i) {
      sources.push_back(corpus.source_tokens(i));
      longest_target = std::max<int64_t>(longest_target, corpus.target(i).size());
    }
    const auto responses =
        predictor.predict(sources, f.max_len > 0 ? f.max_len : longest_target + 1);
    int64_t right = 0;
    for (size_t i = 0; i < corpus.size(); ++i) {
      const auto target = corpus.target_tokens(i);
      right += responses[i] == target;
      if (static_cast<int64_t>(i) < f.show) {
        fmt::print("Call: {}\nTrue: {}\nResp: {}\n", join(sources[i]), join(target),
                   join(responses[i]));
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
  const auto responses = predictor.predict(sources, f.max_len);
  for (size_t i = 0; i < sources.size(); ++i) {
    fmt::print("Call: {}\nResp: {}\n", join(sources[i]), join(responses[i]));
  }
  if (predictor.unknown_tokens() > 0) {
    fmt::print(stderr, "note: {} input tokens are not in the model's vocabulary (read as <unk>)\n",
               predictor.unknown_tokens());
  }
}

}  // namespace

void add_infer(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<InferFlags>();
  auto* cmd = app.add_subcommand("infer", "Greedy-decode sequences with a trained model");
  cmd->footer(kFooter);
  cmd->add_option("--model", f->model, "Checkpoint (DIR/best.pt)")->required();
  cmd->add_option("--input", f->input, "One source sequence, tokens separated by spaces");
  cmd->add_option("--data", f->data, "CSV with source,target");
  cmd->add_option("--show", f->show, "Examples to print with --data [5]");
  cmd->add_option("--max-len", f->max_len,
                  "Decoding steps at most (default: --data: longest target + 1; else 2 x input "
                  "length + 2)");
  cmd->add_option("--precision", f->precision, kInferencePrecisionHelp);
  cmd->callback([f, &ctx] {
    run(*f);
    ctx.exit_code = 0;
  });
}

}  // namespace s2s::cli
