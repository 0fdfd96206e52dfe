// The data scale benchmark: load a 1,000,000-row zero-shift CSV (about 40 MB) the way
// training does (read_pairs_csv -> Vocab -> PairDataset) and report time and peak memory.
// The requirement (issue 3): under 2 seconds, peak memory within 4x the file size.
//
//   build/bench/bench_data_load                 generate /tmp/s2s_bench_1m.csv, then load it
//   build/bench/bench_data_load FILE [REPEATS]  load FILE
// Prints one JSON line.
#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <sys/stat.h>

#include "s2s/csv.h"
#include "s2s/dataset.h"
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
  const auto t0 = std::chrono::steady_clock::now();
  auto corpus = std::make_shared<const s2s::Corpus>(s2s::read_pairs_csv(path));
  const double read_s = seconds_since(t0);
  const auto t1 = std::chrono::steady_clock::now();
  const s2s::Vocab vocab = s2s::Vocab::from_corpus(*corpus);
  auto dataset = std::make_shared<const s2s::PairDataset>(corpus, vocab);
  const double dataset_s = seconds_since(t1);
  const double load_s = seconds_since(t0);
  const long peak_kb = status_kb("VmHWM");

  // Cost of one batch of 64 (what the trainer pays per step for data).
  s2s::DataLoader loader(dataset, {});
  const auto plan = loader.plan(1);
  const size_t batches = std::min<size_t>(plan.size(), 2000);
  const auto t2 = std::chrono::steady_clock::now();
  int64_t checksum = 0;
  for (size_t i = 0; i < batches; ++i) checksum += loader.batch(plan[i]).src.size(0);
  const double batch_us = seconds_since(t2) * 1e6 / static_cast<double>(batches);
  const auto t3 = std::chrono::steady_clock::now();
  (void)loader.plan(2);
  const double plan_ms = seconds_since(t3) * 1e3;

  const double peak_bytes = static_cast<double>(peak_kb) * 1024.0;
  const double delta_bytes = static_cast<double>(peak_kb - rss_before_kb) * 1024.0;
  fmt::print(
      "{{\"bench\": \"data_load\", \"file\": \"{}\", \"file_mb\": {:.1f}, \"rows\": {}, "
      "\"vocab\": {}, \"read_s\": {:.3f}, \"vocab_dataset_s\": {:.3f}, \"load_s\": {:.3f}, "
      "\"rss_before_mb\": {:.1f}, \"peak_rss_mb\": {:.1f}, \"peak_over_file\": {:.2f}, "
      "\"load_delta_mb\": {:.1f}, \"load_delta_over_file\": {:.2f}, "
      "\"batch64_us\": {:.1f}, \"epoch_plan_ms\": {:.1f}, \"checksum\": {}}}\n",
      path, file_bytes / 1e6, corpus->size(), vocab.size(), read_s, dataset_s, load_s,
      static_cast<double>(rss_before_kb) / 1024.0, peak_bytes / (1 << 20),
      peak_bytes / file_bytes, delta_bytes / (1 << 20), delta_bytes / file_bytes, batch_us,
      plan_ms, checksum);
  const bool ok = load_s < 2.0 && peak_bytes < 4.0 * file_bytes;
  return ok ? 0 : 1;
}
