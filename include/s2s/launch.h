// `s2s launch`: torchrun for s2s. Starts this machine's ranks of a distributed job as child
// processes with torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
// GROUP_RANK, MASTER_ADDR, MASTER_PORT, OMP_NUM_THREADS), prefixes each line they print with
// their rank, forwards SIGINT/SIGTERM once to all of them, and when one fails stops the others
// and reports which rank it was. No torch here.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace s2s {

struct LaunchOptions {
  int nproc_per_node = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // The program and its arguments; "s2s" as the program means this executable.
  std::vector<std::string> command;
  // After the first rank fails, how long the others get to stop on SIGTERM before SIGKILL.
  double grace_seconds = 10;
};

// Runs the ranks to the end. Returns 0 when every rank exited 0; after a failure, the failed
// rank's exit code (a message naming the rank on `err`); after a forwarded signal, the ranks'
// code (130 for a clean stop). Throws s2s::Error for bad options.
int launch(const LaunchOptions& options, std::ostream& out, std::ostream& err);

}  // namespace s2s
