// The one place that decides threads and numerics. Every command calls configure_runtime()
// once at start-up; nothing else calls torch::set_num_threads.
#pragma once

#include <cstdint>

namespace s2s {

struct RuntimeOptions {
  // Intra-op threads for torch and oneDNN. 0 means every core of the machine
  // (torch's own default on Debian is 1, which wastes half of a 2-core machine).
  int64_t threads = 0;
  // Seeds torch's global generator when set (>= 0).
  int64_t seed = -1;
};

// Applies the options; returns the thread count in force.
int64_t configure_runtime(const RuntimeOptions& options = {});

}  // namespace s2s
