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

}  // namespace

std::vector<EpochRecord> read_run_metrics(const fs::path& file) {
  std::vector<EpochRecord> rows;
  for (const EpochRecord& m : read_metrics(file)) {
    // A resumed run may repeat an epoch the interrupted process had logged: keep the last.
    while (!rows.empty() && rows.back().epoch >= m.epoch) rows.pop_back();
    rows.push_back(m);
  }
  return rows;
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

RunResult load_result(const fs::path& run_dir, const OverfitRule& rule) {
  RunResult r;
  r.epochs = read_run_metrics(run_dir / run_files::kMetrics);
  for (const EpochRecord& m : r.epochs)
    if (std::isfinite(m.epoch_seconds)) r.wall_seconds += m.epoch_seconds;
  const auto summary = read_summary(run_dir);
  r.status = read_status(run_dir);
  r.resumable = !has_ended(r.status) && fs::exists(run_dir / run_files::kLastCheckpoint);
  if (summary) {
    r.best_epoch = summary->best_epoch;
    r.stop_reason = summary->stop_reason;
    r.wall_seconds = summary->total_seconds.value_or(r.wall_seconds);
  }
  if (!r.best_epoch) r.best_epoch = best_epoch(r.epochs);
  for (const EpochRecord& m : r.epochs)
    if (r.best_epoch && m.epoch == *r.best_epoch) r.best = m;

  std::vector<LossPoint> losses;
  for (const EpochRecord& m : r.epochs) losses.push_back({m.epoch, m.train_loss, m.valid_loss});
  r.overfit_epoch = overfitting_epoch(losses, rule);
  return r;
}

}  // namespace s2s::report
