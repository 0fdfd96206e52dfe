#include "report/grid.h"
#include "common/split.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <sstream>

#include "s2s/error.h"
#include "s2s/run_record.h"
#include "s2s/search.h"

namespace s2s::report {
namespace {

constexpr const char* kTrainSize = "train_size";
constexpr const char* kBeam = "beam";
constexpr const char* kLengthPenalty = "length_penalty";

// A training setting is an axis unless the experiment decides it for every run: the data and
// run paths (--train, --valid, --out), the threads (the cores are shared among the jobs),
// settings that are not flags (ranks), and those of data-parallel ranks (grad_compression: the
// experiment's trainings are single processes, which send no gradients).
bool is_training_axis(const TrainSetting& s) {
  return s.kind != TrainSetting::Kind::Path && !s.flag.empty() && s.key != "threads" &&
         s.key != "grad_compression";
}

// Run-name prefixes of common axes, for short directory names (a part is prefix + value). Any
// other axis is named by its key and value, a choice by its value alone ("lstm", "bf16"), a
// switch by its key or "no_" + key. Only names depend on this table, never which axes exist.
const std::map<std::string, std::string> kShortNames = {
    {"layers", "l"},        {"hidden", "h"},      {"dropout", "d"},  {"epochs", "e"},
    {"batch", "b"},         {"lr", "lr"},         {"patience", "p"}, {"seed", "s"},
    {"lr_decay", "lrd"},    {"attention", "att"}, {kTrainSize, "n"}, {kBeam, "beam"},
    {kLengthPenalty, "lp"}, {"time_budget", "tb"}};

// The canonical key of a spelling ("train-size", "rnn-impl"), or "" when unknown.
std::string find_key(const std::string& spelled) {
  std::string key = spelled;
  std::replace(key.begin(), key.end(), '-', '_');
  if (key == kTrainSize || key == kBeam || key == kLengthPenalty) return key;
  const TrainSetting* s = find_train_setting(spelled);
  return s != nullptr && is_training_axis(*s) ? s->key : "";
}

std::string known_keys() {
  std::string out;
  for (const std::string& key : grid_keys()) out += (out.empty() ? "" : ", ") + key;
  return out;
}

std::string whole_number(const std::string& key, const std::string& value, const std::string& where,
                         long long min, long long max) {
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(value.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE)
    throw Error(fmt::format("{}: {} must be a whole number, got '{}'", where, key, value));
  if (n < min || n > max)
    throw Error(fmt::format("{}: {} must be between {} and {}, got {}", where, key, min, max, n));
  return std::to_string(n);
}

// The training settings of a grid point applied to a default configuration.
TrainConfig config_of(const RunParams& params) {
  TrainConfig config;
  for (const auto& [key, value] : params)
    if (axis_kind(key) == AxisKind::Training) set_setting(config, key, value);
  return config;
}

// Every combination must be a configuration `s2s train` accepts. A value that is wrong on its
// own is blamed on its token; a combination (input_feeding=true with attention=none) is named.
void check_combinations(const Grid& grid, const std::vector<std::string>& tokens) {
  for (const RunParams& run : expand(grid)) {
    try {
      config_of(run).validate_settings();
    } catch (const Error& e) {
      for (std::size_t i = 0; i < grid.axes.size(); ++i) {
        if (axis_kind(grid.axes[i].key) != AxisKind::Training) continue;
        try {
          config_of({run[i]}).validate_settings();
        } catch (const Error& alone) {
          throw Error(fmt::format("--grid '{}': {}", tokens[i], alone.what()));
        }
      }
      std::string combination;
      for (const auto& [key, value] : params_of_kind(run, AxisKind::Training))
        combination += (combination.empty() ? "" : " ") + key + "=" + value;
      throw Error(fmt::format("--grid: the run {}: {}", combination, e.what()));
    }
  }
}

}  // namespace

const std::vector<std::string>& grid_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (const TrainSetting& s : train_settings())
      if (is_training_axis(s)) k.push_back(s.key);
    k.insert(k.end(), {kTrainSize, kBeam, kLengthPenalty});
    return k;
  }();
  return keys;
}

AxisKind axis_kind(const std::string& key) {
  if (key == kTrainSize) return AxisKind::TrainSize;
  if (key == kBeam || key == kLengthPenalty) return AxisKind::Decode;
  return AxisKind::Training;
}

std::string canonical_value(const std::string& spelled, const std::string& value,
                            const std::string& where) {
  const std::string key = find_key(spelled);
  if (key.empty())
    throw Error(fmt::format("{}: unknown key '{}' (known: {})", where, spelled, known_keys()));
  if (value.empty()) throw Error(fmt::format("{}: empty value for '{}'", where, key));
  try {
    if (key == kTrainSize) return whole_number(key, value, where, 5, 1000000000);
    if (key == kBeam) {
      SearchOptions search;
      // The range is the search's own (SearchOptions::check, in --beam's words).
      search.beam = std::stoll(whole_number(key, value, where, -1000000000, 1000000000));
      search.check();
      return std::to_string(search.beam);
    }
    if (key == kLengthPenalty) return LengthPenalty::parse(value).to_string();
    TrainConfig config;
    set_setting(config, key, value);
    return setting_text(config, key);
  } catch (const Error& e) {
    const std::string message = e.what();
    if (message.rfind(where, 0) == 0) throw;
    throw Error(fmt::format("{}: {}", where, message));
  }
}

Grid parse_grid(const std::string& text) {
  Grid grid;
  std::vector<std::string> tokens;  // as given, for messages
  std::istringstream in(text);
  std::string token;
  while (in >> token) {
    const std::string where = fmt::format("--grid '{}'", token);
    const auto eq = token.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(fmt::format("{}: expected key=value,value,... (e.g. layers=1,4)", where));
    const std::string spelled = token.substr(0, eq);
    const std::string key = find_key(spelled);
    if (key.empty())
      throw Error(fmt::format("{}: unknown key '{}' (known: {})", where, spelled, known_keys()));
    for (const GridAxis& axis : grid.axes)
      if (axis.key == key) throw Error(fmt::format("{}: '{}' given twice", where, key));
    const std::string list = token.substr(eq + 1);
    if (list.empty()) throw Error(fmt::format("{}: no values for '{}'", where, key));
    GridAxis axis{key, {}};
    for (const std::string& raw : split(list, ',')) {
      std::string value = canonical_value(key, raw, where);
      if (std::find(axis.values.begin(), axis.values.end(), value) != axis.values.end())
        throw Error(fmt::format("{}: value {} given twice", where, value));
      axis.values.push_back(std::move(value));
    }
    grid.axes.push_back(std::move(axis));
    tokens.push_back(token);
  }
  if (grid.axes.empty())
    throw Error(
        fmt::format("--grid: empty grid; give key=values such as \"layers=1,4 "
                    "dropout=0,0.8\" (keys: {})",
                    known_keys()));
  check_combinations(grid, tokens);
  return grid;
}

std::vector<RunParams> expand(const Grid& grid) {
  std::vector<RunParams> runs{RunParams{}};
  for (const GridAxis& axis : grid.axes) {
    std::vector<RunParams> next;
    for (const RunParams& run : runs)
      for (const std::string& value : axis.values) {
        RunParams p = run;
        p.emplace_back(axis.key, value);
        next.push_back(std::move(p));
      }
    runs = std::move(next);
  }
  return runs;
}

RunParams params_of_kind(const RunParams& params, AxisKind kind) {
  RunParams out;
  for (const auto& kv : params)
    if (axis_kind(kv.first) == kind) out.push_back(kv);
  return out;
}

std::string param_or(const RunParams& params, const std::string& key, const std::string& fallback) {
  for (const auto& [k, v] : params)
    if (k == key) return v;
  return fallback;
}

std::string run_name(const RunParams& params) {
  std::string name;
  for (const auto& [key, value] : params) {
    if (!name.empty()) name += '-';
    const auto short_name = kShortNames.find(key);
    const TrainSetting* setting = find_train_setting(key);
    if (short_name != kShortNames.end())
      name += short_name->second + value;
    else if (setting != nullptr && setting->kind == TrainSetting::Kind::Choice)
      name += value;
    else if (setting != nullptr && setting->kind == TrainSetting::Kind::Bool)
      name += value == "true" ? key : "no_" + key;
    else
      name += key + value;
  }
  // A file name has at most 255 bytes, and DIR/logs/NAME.log adds four: a grid over every axis
  // outgrows that. Such a name keeps its first parts and ends in a hash of the whole name
  // (64-bit FNV-1a: the same in every build, so a resumed experiment finds its runs again).
  constexpr size_t kMaxName = 200;
  if (name.size() > kMaxName) {
    uint64_t hash = 14695981039346656037ull;
    for (const unsigned char c : name) hash = (hash ^ c) * 1099511628211ull;
    name = name.substr(0, kMaxName - 17) + fmt::format("-{:016x}", hash);
  }
  return name;
}

}  // namespace s2s::report
