// `s2s launch`: torchrun's job for s2s (the library's launch(), s2s/launch.h).
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "s2s/launch.h"

namespace s2s::cli {
namespace {

constexpr const char* kFooter =
    R"(Each rank gets torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
GROUP_RANK, MASTER_ADDR, MASTER_PORT) and OMP_NUM_THREADS = cores / --nproc-per-node (s2s train
takes that many threads unless --threads says otherwise). Lines are prefixed with [rank R].
Ctrl-C or SIGTERM is forwarded once to every rank: they agree on a step, rank 0 writes last.pt,
all exit 130. When a rank fails, the others are stopped and the launcher exits with the failed
rank's status, naming it.

Examples:
  s2s launch --nproc-per-node 2 -- s2s train --train data/train.csv --valid data/valid.csv --out runs/dp
        two ranks on this machine; --batch is per rank (the global batch is 2 x 64)
  s2s launch --nnodes 2 --node-rank 0 --nproc-per-node 1 --master-addr 10.0.0.1 --master-port 29500 \
      -- s2s train --train data/train.csv --valid data/valid.csv --out runs/dp
        on the first of two machines (the second runs the same with --node-rank 1)
  torchrun --nproc-per-node 2 --no-python s2s train ...     the same job started by PyTorch's launcher)";

}  // namespace

void add_launch(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<LaunchOptions>();
  auto* cmd = app.add_subcommand(
      "launch", "Start the ranks of a distributed training job on this machine (as torchrun)");
  cmd->footer(kFooter);
  cmd->add_option("--nproc-per-node", o->nproc_per_node, "Ranks on this machine [1]")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--nnodes", o->nnodes, "Machines in the job [1]")->check(CLI::PositiveNumber);
  cmd->add_option("--node-rank", o->node_rank, "This machine's index, 0 hosts rank 0 [0]");
  cmd->add_option("--master-addr", o->master_addr,
                  "Address of the machine with node rank 0, reachable from every machine "
                  "[127.0.0.1]");
  cmd->add_option("--master-port", o->master_port, "Port of the rendezvous store [29500]")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("command", o->command, "The rank's command after --, e.g. s2s train ...")
      ->required();
  cmd->callback([o, &ctx] { ctx.exit_code = launch(*o, std::cout, std::cerr); });
}

}  // namespace s2s::cli
