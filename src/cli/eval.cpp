// `s2s eval`: loss and accuracy of a checkpoint on a data file.
#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "s2s/cell.h"
#include "s2s/decode.h"

namespace s2s::cli {
namespace {

constexpr const char* kFooter =
    R"(Loss is teacher-forced NLL per target token; accuracies come from free-running
greedy decoding, exactly as validation during training.

Examples:
  s2s eval --model runs/course/best.pt --data data/valid.csv
  s2s eval --model runs/course/best.pt --data data/valid.csv --json | jq .seq_acc
  s2s eval --model runs/course/best.pt --data data/valid.csv --precision bf16
        the same model with bf16 RNN matmuls (any checkpoint: its weights are f32)
)";

struct EvalFlags {
  std::string model;
  std::string data;
  bool json = false;
  int64_t batch = 512;
  int64_t threads = 0;
  std::string precision = "f32";
};

}  // namespace

void add_eval(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<EvalFlags>();
  auto* cmd = app.add_subcommand("eval", "Evaluate a checkpoint on a data file");
  cmd->footer(kFooter);
  cmd->add_option("--model", f->model, "Checkpoint (DIR/best.pt or DIR/last.pt)")->required();
  cmd->add_option("--data", f->data, "CSV file with source,target")->required();
  cmd->add_flag("--json", f->json, "Print one JSON object");
  cmd->add_option("--batch", f->batch, "Batch size [512]");
  cmd->add_option("--threads", f->threads, "Threads, 0 = automatic: cores - 1, at least 1 [0]");
  cmd->add_option("--precision", f->precision, kInferencePrecisionHelp);
  cmd->callback([f, &ctx] {
    const EvalReport r =
        evaluate_file(f->model, f->data, f->batch, f->threads, parse_precision(f->precision));
    if (f->json) {
      fmt::print("{}\n", nlohmann::json{{"loss", r.loss},
                                        {"token_acc", r.token_acc},
                                        {"seq_acc", r.seq_acc},
                                        {"rows", r.rows},
                                        {"unknown_tokens", r.unknown_tokens},
                                        {"unknown_rows", r.unknown_rows}}
                             .dump());
    } else {
      fmt::print(
          "rows: {}\nloss: {:.6f}\ntoken accuracy: {:.4f}\nsequence accuracy: {:.4f}\n"
          "unknown tokens: {}{}\n",
          r.rows, r.loss, r.token_acc, r.seq_acc, r.unknown_tokens,
          r.unknown_note.empty() ? "" : " (" + r.unknown_note + ")");
    }
    ctx.exit_code = 0;
  });
}

}  // namespace s2s::cli
