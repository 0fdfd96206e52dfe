// auto_threads (include/s2s/runtime.h): threads = the cores we may use that are idle now.
//
// Why idle cores and not all cores: torch, oneDNN and OpenBLAS share one OpenMP team whose
// threads spin at every barrier, and an RNN step has a barrier every few tens of microseconds.
// A team member whose core another process holds is descheduled for a whole time slice while
// the others spin: the 1-layer GRU training step went from 52 ms with 1 thread to 1244 ms with 2
// on a 2-core machine with a build running. On an idle machine the second core is a 1.7-2x
// speed-up. So the count is decided at start-up, from what the cores did just before.
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "s2s/runtime.h"

namespace s2s {
namespace {

// A core counts as idle when it was busy less than this share of the sample: an idle machine's
// cores show a few percent (daemons, the shell that started us); a core running another
// process, even at nice 19, shows nearly 100%.
constexpr double kIdleBelow = 0.5;

std::string read_proc_stat() {
  std::ifstream in("/proc/stat");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<bool> allowed_cores(size_t cores) {
  std::vector<bool> allowed(cores, true);
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return allowed;
  for (size_t c = 0; c < cores; ++c) allowed[c] = CPU_ISSET(c, &set) != 0;
  return allowed;
}

}  // namespace

std::vector<CoreTicks> parse_proc_stat(const std::string& text) {
  std::vector<CoreTicks> cores;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    // "cpuN user nice system idle iowait irq softirq steal ..." (the "cpu " line is the total)
    if (line.rfind("cpu", 0) != 0 || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
    std::istringstream fields(line.substr(3));
    size_t index = 0;
    fields >> index;
    std::vector<uint64_t> t;
    for (uint64_t v; fields >> v;) t.push_back(v);
    if (t.size() < 4) continue;
    CoreTicks c;
    for (uint64_t v : t) c.total += v;
    c.idle = t[3] + (t.size() > 4 ? t[4] : 0);  // idle + iowait
    if (cores.size() <= index) cores.resize(index + 1);
    cores[index] = c;
  }
  return cores;
}

ThreadChoice choose_threads(const std::vector<CoreTicks>& before,
                            const std::vector<CoreTicks>& after, const std::vector<bool>& allowed) {
  int64_t usable = 0, idle = 0;
  for (size_t c = 0; c < after.size() && c < before.size(); ++c) {
    if (c < allowed.size() && !allowed[c]) continue;
    ++usable;
    const uint64_t total = after[c].total - before[c].total;
    const uint64_t idle_ticks = after[c].idle - before[c].idle;
    const double busy = total == 0 ? 0.0 : 1.0 - static_cast<double>(idle_ticks) / total;
    if (busy < kIdleBelow) ++idle;
  }
  ThreadChoice choice;
  choice.threads = std::max<int64_t>(1, idle);
  if (usable == 0) {
    choice.reason = "threads: 1 (auto: no core usage readable from /proc/stat)";
  } else if (idle == 0) {
    choice.reason = fmt::format(
        "threads: 1 (auto: all {} usable cores busy with other processes, so the fewest; "
        "--threads N overrides)",
        usable);
  } else if (idle == usable) {
    choice.reason =
        fmt::format("threads: {} (auto: all {} usable cores are idle)", choice.threads, usable);
  } else {
    choice.reason = fmt::format(
        "threads: {} (auto: {} of {} usable cores idle, the others busy with other processes; "
        "a thread on a busy core would stall the rest: --threads N overrides)",
        choice.threads, idle, usable);
  }
  return choice;
}

ThreadChoice auto_threads(std::chrono::milliseconds sample) {
  const auto before = parse_proc_stat(read_proc_stat());
  std::this_thread::sleep_for(sample);
  const auto after = parse_proc_stat(read_proc_stat());
  return choose_threads(before, after, allowed_cores(after.size()));
}

}  // namespace s2s
