// The data scale benchmark: load a 1,000,000-row zero-shift CSV (about 40 MB) the way
// training does (read_pairs_csv -> Vocab) and report time and peak memory of the process.
// The requirement (issue 3): under 2 seconds, peak memory within 4x the file size.
// This program links only s2s_data_core (no LibTorch), so its peak RSS is the loader's own
// (a torch process starts at ~150 MB before reading anything). bench_data_batches covers the
// torch side: PairDataset over the same file and the cost of a batch.
//
//   build/bench/bench_data_load         generate /tmp/s2s_bench_1m.csv if missing, load it
//   build/bench/bench_data_load FILE    load FILE
// Prints one JSON line; exits 1 if a requirement is missed.
#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/stat.h>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>

#include "s2s/csv.h"
#include "s2s/tasks.h"
#include "s2s/vocab.h"

namespace {

// A field of /proc/self/status in kB (VmRSS: now, VmHWM: peak).
long status_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
  }
  return -1;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Generates the file in a child process so that generation's memory never counts here.
void generate(const std::string& path, int64_t rows) {
  const pid_t pid = fork();
  if (pid == 0) {
    s2s::write_pairs_csv(path, s2s::generate_task("zero-shift", rows, {}, 1));
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "generation failed\n");
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = argc > 1 ? argv[1] : "/tmp/s2s_bench_1m.csv";
  const int64_t rows_wanted = 1000000;
  struct stat st {};
  if (argc <= 1 && ::stat(path.c_str(), &st) != 0) generate(path, rows_wanted);
  if (::stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "%s: cannot stat\n", path.c_str());
    return 1;
  }
  const auto file_bytes = static_cast<double>(st.st_size);

  const long rss_before_kb = status_kb("VmRSS");
  // Best of 3 loads (the machine is shared); each corpus is freed before the next, so the
  // peak RSS is that of one load. CPU seconds are reported too: on a busy machine the wall
  // time includes waiting for a core.
  double best_wall = 1e9, best_cpu = 0, read_s = 0;
  size_t rows = 0, tokens = 0;
  int64_t vocab_size = 0;
  for (int repeat = 0; repeat < 3; ++repeat) {
    const double cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    const s2s::Corpus corpus = s2s::read_pairs_csv(path);
    const double read = seconds_since(t0);
    const s2s::Vocab vocab = s2s::Vocab::from_corpus(corpus);
    const double wall = seconds_since(t0);
    if (wall < best_wall) {
      best_wall = wall;
      best_cpu = cpu_seconds() - cpu0;
      read_s = read;
    }
    rows = corpus.size();
    tokens = corpus.total_tokens();
    vocab_size = vocab.size();
  }
  const long peak_kb = status_kb("VmHWM");

  const double peak_bytes = static_cast<double>(peak_kb) * 1024.0;
  const double delta_bytes = static_cast<double>(peak_kb - rss_before_kb) * 1024.0;
  fmt::print(
      "{{\"bench\": \"data_load\", \"file\": \"{}\", \"file_mb\": {:.1f}, \"rows\": {}, "
      "\"tokens\": {}, \"vocab\": {}, \"read_s\": {:.3f}, \"load_s\": {:.3f}, "
      "\"load_cpu_s\": {:.3f}, \"rss_before_mb\": {:.1f}, \"peak_rss_mb\": {:.1f}, "
      "\"peak_over_file\": {:.2f}, \"load_delta_mb\": {:.1f}}}\n",
      path, file_bytes / 1e6, rows, tokens, vocab_size, read_s, best_wall, best_cpu,
      static_cast<double>(rss_before_kb) / 1024.0, peak_bytes / (1 << 20), peak_bytes / file_bytes,
      delta_bytes / (1 << 20));
  const bool ok = best_wall < 2.0 && peak_bytes < 4.0 * file_bytes;
  return ok ? 0 : 1;
}
