// A value other than its default for every training axis of `s2s experiment`, derived from the
// axes themselves (report::grid_keys(), s2s::train_settings()), so a setting added to the
// training configuration is covered by the tests that use this without editing them.
#pragma once

#include <string>
#include <vector>

#include "report/grid.h"
#include "s2s/error.h"
#include "s2s/run_record.h"

namespace s2s::report::test {

// Cheap values where a larger one would only make a real training slower.
inline std::string preferred_value(const std::string& key) {
  if (key == "hidden") return "8";
  if (key == "layers") return "2";
  if (key == "epochs") return "2";
  if (key == "batch") return "16";
  return "";
}

// A value of `s` other than its default: the first other choice, the other switch position, or
// a nearby number.
inline std::string other_value(const TrainSetting& s) {
  if (!preferred_value(s.key).empty()) return preferred_value(s.key);
  switch (s.kind) {
    case TrainSetting::Kind::Choice:
      for (const std::string& c : s.choices)
        if (c != s.default_value) return c;
      return s.default_value;
    case TrainSetting::Kind::Bool:
      return s.default_value == "true" ? "false" : "true";
    case TrainSetting::Kind::Int:
      return std::to_string(std::stoll(s.default_value) + 1);
    case TrainSetting::Kind::Real: {
      const double d = std::stod(s.default_value);
      TrainConfig c;
      set_setting(c, s.key, d > 0 ? std::to_string(d / 2) : "0.1");
      return setting_text(c, s.key);
    }
    case TrainSetting::Kind::Path:
      break;
  }
  return s.default_value;
}

inline bool valid(const RunParams& point) {
  TrainConfig c;
  for (const auto& [k, v] : point) set_setting(c, k, v);
  try {
    c.validate_settings();
    return true;
  } catch (const Error&) {
    return false;
  }
}

// Grid points (one value per axis) that together give every training axis a value other than
// its default, each a configuration `s2s train` accepts: each axis goes into the first point
// it is valid in (bf16 and the torch RNNs cannot share one), and the cheap values are added to
// every point so that each trains quickly.
inline std::vector<RunParams> non_default_points() {
  std::vector<RunParams> points;
  for (const std::string& key : grid_keys()) {
    if (axis_kind(key) != AxisKind::Training) continue;
    const std::pair<std::string, std::string> kv{key, other_value(*find_train_setting(key))};
    bool placed = false;
    for (RunParams& p : points) {
      RunParams with = p;
      with.push_back(kv);
      if (valid(with)) {
        p = with;
        placed = true;
        break;
      }
    }
    if (!placed) points.push_back({kv});
  }
  for (RunParams& p : points)
    for (const char* key : {"hidden", "layers", "epochs", "batch"})
      if (param_or(p, key, "").empty()) {
        RunParams with = p;
        with.emplace_back(key, preferred_value(key));
        if (valid(with)) p = with;
      }
  return points;
}

// A point as grid text: "layers=2 hidden=8 ...".
inline std::string grid_text(const RunParams& point) {
  std::string text;
  for (const auto& [k, v] : point) text += (text.empty() ? "" : " ") + k + "=" + v;
  return text;
}

}  // namespace s2s::report::test
