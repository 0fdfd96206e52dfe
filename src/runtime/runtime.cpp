#include "s2s/runtime.h"

#include <torch/torch.h>

#include <thread>

#include "s2s/error.h"

namespace s2s {

int64_t configure_runtime(const RuntimeOptions& options) {
  if (options.threads < 0) {
    throw Error("--threads must be 0 (all cores) or a positive count, got " +
                std::to_string(options.threads));
  }
  const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int64_t threads = options.threads == 0 ? cores : options.threads;
  torch::set_num_threads(static_cast<int>(threads));
  if (options.seed >= 0) torch::manual_seed(static_cast<uint64_t>(options.seed));
  return threads;
}

}  // namespace s2s
