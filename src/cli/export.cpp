// `s2s export`: a checkpoint's weights as a PyTorch state_dict, plus the vocabulary as JSON.
#include <fmt/core.h>

#include <string>

#include "cli/commands.h"
#include "s2s/interop.h"

namespace s2s::cli {
namespace {

constexpr const char* kFooter = R"(In Python (the model class is python/s2s_peer.py's Seq2Seq):
  sd = torch.load("model.pt"); vocab = json.load(open("model.vocab.json"))["tokens"]
  m = Seq2Seq(len(vocab), hidden, layers, 0.0, "gru"); m.load_state_dict(sd)

Examples:
  s2s export --model runs/course/best.pt --to model.pt      writes model.pt, model.vocab.json
)";

std::string default_vocab_path(const std::string& to) {
  const auto dot = to.rfind(".pt");
  return (dot != std::string::npos && dot + 3 == to.size() ? to.substr(0, dot) : to) +
         ".vocab.json";
}

}  // namespace

void add_export(CLI::App& app, Context& ctx) {
  auto model = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  auto vocab = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("export", "Write a checkpoint as a PyTorch state_dict + vocab");
  cmd->footer(kFooter);
  cmd->add_option("--model", *model, "s2s checkpoint")->required();
  cmd->add_option("--to", *to, "state_dict file to write (torch.load reads it)")->required();
  cmd->add_option("--vocab", *vocab, "Vocabulary JSON to write [TO without .pt + .vocab.json]");
  cmd->callback([=, &ctx] {
    const std::string vocab_path = vocab->empty() ? default_vocab_path(*to) : *vocab;
    export_state_dict(*model, *to, vocab_path);
    fmt::print("wrote {} and {}\n", *to, vocab_path);
    ctx.exit_code = 0;
  });
}

}  // namespace s2s::cli
