// RunStatus, and RunSummary <-> DIR/summary.json.
#include <nlohmann/json.hpp>

#include "s2s/file_io.h"
#include "s2s/run_record.h"

namespace s2s {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::uintmax_t kMaxSummaryBytes = 1024 * 1024;  // larger: not a summary

std::optional<int> optional_int(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int>();
}

json optional_json(const std::optional<int>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

std::string to_string(RunStatus status) {
  switch (status) {
    case RunStatus::NotStarted:
      return "not_started";
    case RunStatus::Running:
      return "running";
    case RunStatus::Completed:
      return "completed";
    case RunStatus::EarlyStopping:
      return "early_stopping";
    case RunStatus::Interrupted:
      return "interrupted";
    case RunStatus::NonFiniteLoss:
      return "non_finite_loss";
  }
  return "?";
}

RunStatus parse_stop_reason(const std::string& r) {
  const auto has = [&](const char* word) { return r.find(word) != std::string::npos; };
  if (has("early") || has("patience") || has("overfit")) return RunStatus::EarlyStopping;
  if (has("non_finite") || has("nan")) return RunStatus::NonFiniteLoss;
  if (has("interrupt") || has("error")) return RunStatus::Interrupted;
  if (r == "running") return RunStatus::Running;
  if (r == "not_started") return RunStatus::NotStarted;
  return RunStatus::Completed;
}

const char* display_name(RunStatus status) {
  switch (status) {
    case RunStatus::NotStarted:
      return "not started";
    case RunStatus::Running:
      return "running";
    case RunStatus::Completed:
      return "finished";
    case RunStatus::EarlyStopping:
      return "stopped early";
    case RunStatus::Interrupted:
    case RunStatus::NonFiniteLoss:
      return "stopped";
  }
  return "?";
}

bool has_ended(RunStatus status) {
  return status == RunStatus::Completed || status == RunStatus::EarlyStopping ||
         status == RunStatus::NonFiniteLoss;
}

std::string RunSummary::to_json() const {
  nlohmann::ordered_json j;
  j["stop_reason"] = stop_reason.empty() ? s2s::to_string(status) : stop_reason;
  j["epochs_completed"] = optional_json(epochs_completed);
  j["best_epoch"] = optional_json(best_epoch);
  j["best_metrics"] = best_metrics ? json::parse(best_metrics->to_json()) : json(nullptr);
  j["overfitting_epoch"] = optional_json(overfit_epoch);
  j["min_valid_loss_epoch"] = optional_json(min_valid_loss_epoch);
  j["total_seconds"] = total_seconds ? json(*total_seconds) : json(nullptr);
  return j.dump(2);
}

std::optional<RunSummary> RunSummary::parse(const std::string& text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  RunSummary s;
  if (const auto r = j.find("stop_reason"); r != j.end() && r->is_string()) {
    s.stop_reason = r->get<std::string>();
    s.status = parse_stop_reason(s.stop_reason);
  }
  s.epochs_completed = optional_int(j, "epochs_completed");
  s.best_epoch = optional_int(j, "best_epoch");
  if (const auto b = j.find("best_metrics"); b != j.end() && b->is_object())
    s.best_metrics = EpochRecord::parse(b->dump());
  s.overfit_epoch = optional_int(j, "overfitting_epoch");
  if (!s.overfit_epoch) s.overfit_epoch = optional_int(j, "overfit_epoch");  // other writers
  if (s.overfit_epoch && *s.overfit_epoch <= 0) s.overfit_epoch.reset();
  s.min_valid_loss_epoch = optional_int(j, "min_valid_loss_epoch");
  if (const auto t = j.find("total_seconds"); t != j.end() && t->is_number())
    s.total_seconds = t->get<double>();
  return s;
}

std::optional<RunSummary> read_summary(const fs::path& dir) {
  const auto text = read_small_file((dir / run_files::kSummary).string(), kMaxSummaryBytes);
  return text ? RunSummary::parse(*text) : std::nullopt;
}

RunStatus read_status(const fs::path& dir) {
  if (const auto summary = read_summary(dir)) return summary->status;
  std::error_code ec;
  for (const char* file : {run_files::kConfig, run_files::kMetrics, run_files::kLastCheckpoint}) {
    if (fs::exists(dir / file, ec)) return RunStatus::Running;
  }
  return RunStatus::NotStarted;
}

}  // namespace s2s
