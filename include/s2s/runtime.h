// The one place that decides threads and numerics. Every command calls configure_runtime()
// once at start-up; nothing else calls torch::set_num_threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace s2s {

struct RuntimeOptions {
  // Intra-op threads for torch, oneDNN and OpenBLAS (one OpenMP pool). 0 means automatic:
  // auto_threads(), the cores that are idle now.
  int64_t threads = 0;
  // Seeds torch's global generator when set (>= 0).
  int64_t seed = -1;
  // Flush denormal floats to zero (FTZ/DAZ) for torch's and oneDNN's CPU work. See runtime.cpp.
  bool flush_denormal = true;
  // Keep freed memory in the process instead of returning it to the kernel after every step
  // (glibc mallopt; see runtime.cpp): twice as fast training epochs, peak memory unchanged.
  bool keep_freed_memory = true;
};

// The thread count that threads = 0 selects: auto_threads().threads.
int64_t default_threads();

// Busy and total time of one core, in /proc/stat's ticks (idle counts iowait too).
struct CoreTicks {
  uint64_t idle = 0, total = 0;
};
// Per core (index = CPU number), from the "cpuN ..." lines of /proc/stat's text.
std::vector<CoreTicks> parse_proc_stat(const std::string& text);

struct ThreadChoice {
  int64_t threads = 1;
  std::string reason;  // one log line: "threads: 2 (auto: all 2 usable cores are idle)"
};
// The rule: one thread per core this process may run on (`allowed`, from its affinity) that was
// busy less than half the time between the two samples; at least 1.
ThreadChoice choose_threads(const std::vector<CoreTicks>& before,
                            const std::vector<CoreTicks>& after, const std::vector<bool>& allowed);
// The rule applied to /proc/stat sampled `sample` apart, now (see src/runtime/auto_threads.cpp).
ThreadChoice auto_threads(std::chrono::milliseconds sample = std::chrono::milliseconds(100));

// Applies the options; returns the thread count in force.
int64_t configure_runtime(const RuntimeOptions& options = {});

// Keeps signal handlers off compute threads (oneDNN's JIT kernels cannot take a signal safely;
// see src/runtime/signal_thread.cpp). Blocks SIGINT, SIGTERM and SIGHUP in the calling thread, and
// so in every thread it creates afterwards, and starts one thread that receives them instead. Call
// it first in main(), before any other thread exists; train() calls it too. Idempotent.
void isolate_signals();

// SIGINT/SIGTERM as a request to stop, for the lifetime of the object: the work polls
// requested() between steps, finishes cleanly (the trainer saves last.pt; an experiment stops
// its runs) and returns. With `second_ends_process`, a second signal ends the process at once
// (the default action), for a user who pressed Ctrl-C twice. Calls isolate_signals(), so the
// handler never runs on a compute thread. One instance at a time; the previous handlers are
// restored when it ends. `enabled` false: no handler, requested() only reports request().
class StopSignals {
 public:
  explicit StopSignals(bool enabled = true, bool second_ends_process = true);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  bool requested() const;
  void request();  // as if a signal had arrived (tests, programmatic stops)

 private:
  bool enabled_;
  struct Saved;
  std::unique_ptr<Saved> saved_;  // the handlers to restore
};

// SIGHUP as a request to reload (`s2s serve` re-reads its model files), for the lifetime of the
// object: take() returns true once per signal received since the last take(). Calls
// isolate_signals(), so the handler never runs on a compute thread. One instance at a time;
// the previous handler is restored when it ends.
class ReloadSignal {
 public:
  ReloadSignal();
  ~ReloadSignal();
  ReloadSignal(const ReloadSignal&) = delete;
  ReloadSignal& operator=(const ReloadSignal&) = delete;

  bool take();

 private:
  struct Saved;
  std::unique_ptr<Saved> saved_;
};

}  // namespace s2s
