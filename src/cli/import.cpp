// `s2s import`: a PyTorch state_dict of the reference model (plus vocabulary) as a checkpoint.
#include <fmt/core.h>

#include <string>

#include "cli/commands.h"
#include "s2s/interop.h"

namespace s2s::cli {

namespace {
constexpr const char* kFooter =
    R"(The cell (GRU/LSTM/RNN), depth and width are read off the tensor shapes.
The vocabulary is s2s's JSON ({"format": "s2s-vocab", "version": 1, "tokens": [...]}), with
<pad>, <sos>, <eos>, <unk> as ids 0-3.

Examples:
  python: torch.save(dict(model.state_dict()), "py.pt")   (a plain dict, not the OrderedDict)
  s2s import --from py.pt --vocab py.vocab.json --to imported.pt
  s2s infer --model imported.pt --input "0 0 0 5 3 8 2 7 1 4"
)";
}  // namespace

void add_import(CLI::App& app, Context& ctx) {
  auto from = std::make_shared<std::string>();
  auto vocab = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("import", "Make a checkpoint from a PyTorch state_dict + vocab");
  cmd->footer(kFooter);
  cmd->add_option("--from", *from, "state_dict file written by torch.save")->required();
  cmd->add_option("--vocab", *vocab, "Vocabulary JSON")->required();
  cmd->add_option("--to", *to, "s2s checkpoint to write")->required();
  cmd->callback([=, &ctx] {
    import_state_dict(*from, *vocab, *to);
    fmt::print("wrote {}\n", *to);
    ctx.exit_code = 0;
  });
}

}  // namespace s2s::cli
