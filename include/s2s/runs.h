// Training runs on disk, as the dashboard, `s2s plot` and experiment reports find them.
// A run is a directory holding metrics.jsonl and/or config.json (written by training), and
// summary.json once training ended; its files are described in s2s/run_record.h.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "s2s/metrics_log.h"

namespace s2s {

struct RunInfo {
  std::string id;              // unique among discovered runs; also the display name
  std::filesystem::path root;  // canonical directory the run was found under
  std::filesystem::path dir;   // canonical run directory, inside root
  std::vector<std::pair<std::string, std::string>> config;  // flattened scalars of config.json
  std::string config_summary;                               // short "key=value ..." line for lists
  std::optional<RunSummary> summary;                        // absent while training runs
  int patience = 3;  // config.json's patience, used to find the overfit epoch

  RunStatus status() const;  // the summary's, or Running while there is none
  std::filesystem::path metrics_path() const { return dir / "metrics.jsonl"; }
  std::filesystem::path steps_path() const { return dir / "steps.jsonl"; }
};

// Loads one run directory (config.json, summary.json; metrics are read separately).
// Throws s2s::Error if dir is not a directory.
RunInfo load_run(const std::filesystem::path& dir, std::string id = "");

// Finds the runs in each root: the root itself if it is a run, and run directories up to two
// levels below it. Directories or files reached through symlinks that resolve outside their
// root are ignored. Throws s2s::Error if a root does not exist.
std::vector<RunInfo> discover_runs(const std::vector<std::filesystem::path>& roots);

// True if `path` exists and, with symlinks resolved, lies inside `root` (canonical).
bool is_inside(const std::filesystem::path& root, const std::filesystem::path& path);

// The epochs to mark on charts: summary.json wins when present, else computed from metrics.
struct RunMarkers {
  std::optional<int> best_epoch;
  std::optional<int> overfit_epoch;
  double best_valid_token_acc;  // NaN when no epoch has one
  double best_valid_seq_acc;
};
RunMarkers run_markers(const RunInfo& run, const std::vector<EpochRecord>& epochs);

}  // namespace s2s
