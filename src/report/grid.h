// An experiment grid: "layers=1,4 dropout=0,0.8 train_size=2800,14000" is three axes whose
// cartesian product is the set of runs. The keys are derived, never listed by hand:
//   training axes  every `s2s train` setting (s2s/run_record.h's train_settings()) except the
//                  data and run paths and --threads, which the experiment sets itself
//   train_size     the training pairs of a run: generated data, or a seeded subset of --train
//   decode axes    beam and length_penalty (s2s/search.h): applied when a trained model is
//                  evaluated, so runs that differ only in them share one training
// Values are checked and written canonically so that "0.80" and "0.8" name the same run; each
// combination is checked as `s2s train` would check it (TrainConfig::validate_settings).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace s2s::report {

struct GridAxis {
  std::string key;                  // canonical key, e.g. "train_size"
  std::vector<std::string> values;  // canonical values, in the order given
};

struct Grid {
  std::vector<GridAxis> axes;  // in the order given
};

// One point of the grid: (key, canonical value) in axis order.
using RunParams = std::vector<std::pair<std::string, std::string>>;

enum class AxisKind { Training, TrainSize, Decode };

// Parses a grid. Throws s2s::Error naming the offending token for: an empty grid, a token
// without '=', an unknown key (the message lists the known ones), a repeated key, an empty
// value list or an empty value, a value of the wrong kind, a repeated value; and naming the
// token (or the combination) for a value `s2s train` or the search would refuse.
Grid parse_grid(const std::string& text);

// Keys a grid may use, in a stable order (for messages and --help): the training axes in
// config.json's order, then train_size, beam and length_penalty.
const std::vector<std::string>& grid_keys();

// The kind of a canonical key (one of grid_keys()).
AxisKind axis_kind(const std::string& key);

// Checks and canonicalizes one value of a known key; throws s2s::Error (mentioning `where`).
std::string canonical_value(const std::string& key, const std::string& value,
                            const std::string& where);

// The cartesian product, first axis outermost.
std::vector<RunParams> expand(const Grid& grid);

// The params of the given kind(s), in order.
RunParams params_of_kind(const RunParams& params, AxisKind kind);

// The value of `key` in `params`, or `fallback` when the grid does not set it.
std::string param_or(const RunParams& params, const std::string& key, const std::string& fallback);

// A short directory name for a run: one part per axis, e.g. "l4-d0.8-n14000".
std::string run_name(const RunParams& params);

}  // namespace s2s::report
