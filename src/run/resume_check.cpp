// Which settings define a run, and which of them a configuration meant to continue it changes.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <system_error>

#include "s2s/run_record.h"

namespace s2s {
namespace {

bool is_path_setting(const std::string& key) {
  return key == "train" || key == "valid";
}

// "data/train.csv" and "./data/train.csv" (or a symlink to it) are the same data file.
bool same_file(const std::string& a, const std::string& b) {
  std::error_code error;
  return std::filesystem::equivalent(a, b, error) && !error;
}

std::string text_of(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

}  // namespace

const std::vector<std::string>& run_defining_settings() {
  static const std::vector<std::string> keys{"cell",
                                             "layers",
                                             "hidden",
                                             "attention",
                                             "input_feeding",
                                             "bidirectional",
                                             "bidirectional_merge",
                                             "train",
                                             "valid",
                                             "batch",
                                             "bucket_pool",
                                             "seed"};
  return keys;
}

std::string SettingChange::flag() const {
  const TrainSetting* setting = find_train_setting(key);
  return setting != nullptr ? setting->flag : "--" + key;
}

std::vector<SettingChange> run_defining_changes(const TrainConfig& run,
                                                const TrainConfig& resumed) {
  // Through config.json's form, so values read as users typed them ("lstm", 64, true).
  const auto before = nlohmann::json::parse(run.to_json());
  const auto after = nlohmann::json::parse(resumed.to_json());
  std::vector<SettingChange> changes;
  for (const std::string& key : run_defining_settings()) {
    const nlohmann::json& a = before.at(key);
    const nlohmann::json& b = after.at(key);
    if (a == b) continue;
    if (is_path_setting(key) && same_file(a.get<std::string>(), b.get<std::string>())) continue;
    changes.push_back({key, text_of(a), text_of(b)});
  }
  return changes;
}

}  // namespace s2s
