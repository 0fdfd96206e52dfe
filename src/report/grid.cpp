#include "report/grid.h"
#include "common/split.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "s2s/error.h"

namespace s2s::report {
namespace {

enum class Kind { Int, Real, Choice };

struct KeySpec {
  const char* key;
  const char* short_name;  // prefix in run names; empty: the value names itself (cell)
  Kind kind;
  double min;           // inclusive
  double max;           // inclusive for Int, exclusive for Real (dropout < 1)
  const char* choices;  // Choice only: space-separated
};

constexpr double kNoMax = 1e18;

// The training flags a grid can vary (the `s2s train` contract) and the data size.
constexpr KeySpec kKeys[] = {
    {"cell", "", Kind::Choice, 0, 0, "gru lstm rnn"},
    {"layers", "l", Kind::Int, 1, 64, ""},
    {"hidden", "h", Kind::Int, 1, 65536, ""},
    {"dropout", "d", Kind::Real, 0, 1, ""},
    {"epochs", "e", Kind::Int, 1, 1e9, ""},
    {"batch", "b", Kind::Int, 1, 1e9, ""},
    {"lr", "lr", Kind::Real, 1e-300, kNoMax, ""},
    {"patience", "p", Kind::Int, 0, 1e9, ""},
    {"seed", "s", Kind::Int, 0, 4294967295.0, ""},
    {"lr_decay", "lrd", Kind::Real, 1e-300, kNoMax, ""},
    {"impl", "", Kind::Choice, 0, 0, "torch onednn"},
    {"precision", "", Kind::Choice, 0, 0, "f32 bf16"},
    // Validation pairs are always train_size / 5, as in the course.
    {"train_size", "n", Kind::Int, 5, 1e9, ""},
};

const KeySpec* find_key(const std::string& key) {
  std::string k = key;
  std::replace(k.begin(), k.end(), '-', '_');  // accept the flag spelling train-size too
  for (const KeySpec& spec : kKeys)
    if (k == spec.key) return &spec;
  return nullptr;
}

std::string known_keys() {
  std::string out;
  for (const KeySpec& spec : kKeys) out += (out.empty() ? "" : ", ") + std::string(spec.key);
  return out;
}

}  // namespace

const std::vector<std::string>& grid_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (const KeySpec& spec : kKeys) k.emplace_back(spec.key);
    return k;
  }();
  return keys;
}

std::string canonical_value(const std::string& key, const std::string& value,
                            const std::string& where) {
  const KeySpec* spec = find_key(key);
  if (spec == nullptr)
    throw Error(fmt::format("{}: unknown key '{}' (known: {})", where, key, known_keys()));
  if (value.empty()) throw Error(fmt::format("{}: empty value for '{}'", where, spec->key));
  if (spec->kind == Kind::Choice) {
    for (const std::string& choice : split(spec->choices, ' '))
      if (value == choice) return value;
    throw Error(fmt::format("{}: '{}' is not a valid {} (one of: {})", where, value, spec->key,
                            spec->choices));
  }
  const char* begin = value.c_str();
  char* end = nullptr;
  errno = 0;
  if (spec->kind == Kind::Int) {
    const long long n = std::strtoll(begin, &end, 10);
    if (end == begin || *end != '\0' || errno == ERANGE)
      throw Error(fmt::format("{}: {} must be a whole number, got '{}'", where, spec->key, value));
    if (n < spec->min || n > spec->max)
      throw Error(fmt::format("{}: {} must be between {} and {}, got {}", where, spec->key,
                              spec->min, spec->max, n));
    return std::to_string(n);
  }
  const double x = std::strtod(begin, &end);
  if (end == begin || *end != '\0' || errno == ERANGE || !std::isfinite(x))
    throw Error(fmt::format("{}: {} must be a number, got '{}'", where, spec->key, value));
  if (spec->max >= kNoMax && x < spec->min)
    throw Error(fmt::format("{}: {} must be above 0, got {}", where, spec->key, value));
  if (x < spec->min || x >= spec->max)
    throw Error(fmt::format("{}: {} must be at least {} and below {}, got {}", where, spec->key,
                            spec->min, spec->max, value));
  return fmt::format("{}", x + 0.0);  // shortest round-trip form: 0.80 -> 0.8, -0 -> 0
}

Grid parse_grid(const std::string& text) {
  Grid grid;
  std::istringstream in(text);
  std::string token;
  while (in >> token) {
    const std::string where = fmt::format("--grid '{}'", token);
    const auto eq = token.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(fmt::format("{}: expected key=value,value,... (e.g. layers=1,4)", where));
    const std::string key = token.substr(0, eq);
    const KeySpec* spec = find_key(key);
    if (spec == nullptr)
      throw Error(fmt::format("{}: unknown key '{}' (known: {})", where, key, known_keys()));
    for (const GridAxis& axis : grid.axes)
      if (axis.key == spec->key) throw Error(fmt::format("{}: '{}' given twice", where, spec->key));
    const std::string list = token.substr(eq + 1);
    if (list.empty()) throw Error(fmt::format("{}: no values for '{}'", where, spec->key));
    GridAxis axis{spec->key, {}};
    for (const std::string& raw : split(list, ',')) {
      std::string value = canonical_value(spec->key, raw, where);
      if (std::find(axis.values.begin(), axis.values.end(), value) != axis.values.end())
        throw Error(fmt::format("{}: value {} given twice", where, value));
      axis.values.push_back(std::move(value));
    }
    grid.axes.push_back(std::move(axis));
  }
  if (grid.axes.empty())
    throw Error(
        fmt::format("--grid: empty grid; give key=values such as \"layers=1,4 "
                    "dropout=0,0.8\" (keys: {})",
                    known_keys()));
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

std::string param_or(const RunParams& params, const std::string& key, const std::string& fallback) {
  for (const auto& [k, v] : params)
    if (k == key) return v;
  return fallback;
}

std::string run_name(const RunParams& params) {
  std::string name;
  for (const auto& [key, value] : params) {
    const KeySpec* spec = find_key(key);
    if (!name.empty()) name += '-';
    name += (spec != nullptr ? spec->short_name : key) + value;
  }
  return name;
}

}  // namespace s2s::report
