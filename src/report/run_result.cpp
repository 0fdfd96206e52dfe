#include "report/run_result.h"

#include <fmt/core.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "s2s/error.h"

namespace s2s::report {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::optional<json> read_json(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

double number_or(const json& j, const char* key, double fallback) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

}  // namespace

const char* to_string(RunState state) {
  switch (state) {
    case RunState::NotStarted:
      return "not started";
    case RunState::Interrupted:
      return "interrupted";
    case RunState::Finished:
      return "finished";
  }
  return "?";
}

std::vector<MetricsRecord> read_run_metrics(const fs::path& file) {
  std::vector<MetricsRecord> rows;
  for (const MetricsRecord& m : read_metrics(file)) {
    // A resumed run may repeat an epoch the interrupted process had logged: keep the last.
    while (!rows.empty() && rows.back().epoch >= m.epoch) rows.pop_back();
    rows.push_back(m);
  }
  return rows;
}

RunState run_state(const fs::path& run_dir) {
  const bool checkpoint = fs::exists(run_dir / "last.pt");
  if (const auto summary = read_json(run_dir / "summary.json")) {
    // The trainer also writes a summary when it is interrupted: that run is not finished.
    const auto reason = summary->find("stop_reason");
    const bool interrupted =
        reason != summary->end() && reason->is_string() && *reason == "interrupted";
    if (!interrupted) return RunState::Finished;
    if (checkpoint) return RunState::Interrupted;
  }
  return checkpoint ? RunState::Interrupted : RunState::NotStarted;
}

void check_same_config(const fs::path& run_dir, const RunParams& params) {
  const auto config = read_json(run_dir / "config.json");
  if (!config) return;
  for (const auto& [key, value] : params) {
    const auto it = config->find(key);
    if (it == config->end()) continue;
    bool same = true;
    std::string theirs;
    if (it->is_number()) {
      same = std::abs(it->get<double>() - std::stod(value)) <= 1e-9 * std::abs(std::stod(value));
      theirs = fmt::format("{}", it->get<double>());
    } else if (it->is_string()) {
      same = it->get<std::string>() == value;
      theirs = it->get<std::string>();
    }
    if (!same)
      throw Error(
          fmt::format("{}: holds a run with {}={}, this experiment wants {}={}; use "
                      "another --out or remove that directory",
                      (run_dir / "config.json").string(), key, theirs, key, value));
  }
}

RunResult load_run(const fs::path& run_dir, const OverfitRule& rule) {
  RunResult r;
  r.state = run_state(run_dir);
  r.epochs = read_run_metrics(run_dir / "metrics.jsonl");
  for (const MetricsRecord& m : r.epochs)
    if (std::isfinite(m.epoch_seconds)) r.wall_seconds += m.epoch_seconds;

  const auto summary = read_json(run_dir / "summary.json");
  if (summary) {
    if (summary->contains("best_epoch") && (*summary)["best_epoch"].is_number_integer())
      r.best_epoch = (*summary)["best_epoch"].get<int>();
    if (summary->contains("stop_reason") && (*summary)["stop_reason"].is_string())
      r.stop_reason = (*summary)["stop_reason"].get<std::string>();
    r.wall_seconds = number_or(*summary, "total_seconds", r.wall_seconds);
  }
  if (!r.best_epoch && !r.epochs.empty()) {
    // Highest validation sequence accuracy; the earliest such epoch (as a checkpoint would).
    const MetricsRecord* best = &r.epochs.front();
    for (const MetricsRecord& m : r.epochs)
      if (m.valid_seq_acc > best->valid_seq_acc) best = &m;
    r.best_epoch = best->epoch;
  }
  for (const MetricsRecord& m : r.epochs)
    if (r.best_epoch && m.epoch == *r.best_epoch) r.best = m;

  std::vector<LossPoint> losses;
  for (const MetricsRecord& m : r.epochs) losses.push_back({m.epoch, m.train_loss, m.valid_loss});
  r.overfit_epoch = overfitting_epoch(losses, rule);
  return r;
}

}  // namespace s2s::report
