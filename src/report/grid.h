// An experiment grid: "layers=1,4 dropout=0,0.8 train_size=2800,14000" is three axes whose
// cartesian product is the set of runs. Keys are `s2s train` flags plus train_size (the data
// generated for the run); values are checked and written canonically so that "0.80" and "0.8"
// name the same run.
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

// Parses a grid. Throws s2s::Error naming the offending token for: an empty grid, a token
// without '=', an unknown key (the message lists the known ones), a repeated key, an empty
// value list or an empty value, a value that is not a number of the right kind or is out of
// range, a repeated value.
Grid parse_grid(const std::string& text);

// Keys a grid may use, in a stable order (for messages and --help).
const std::vector<std::string>& grid_keys();

// Checks and canonicalizes one value of a known key; throws s2s::Error (mentioning `where`).
std::string canonical_value(const std::string& key, const std::string& value,
                            const std::string& where);

// The cartesian product, first axis outermost.
std::vector<RunParams> expand(const Grid& grid);

// The value of `key` in `params`, or `fallback` when the grid does not set it.
std::string param_or(const RunParams& params, const std::string& key, const std::string& fallback);

// A short directory name for a run: one part per axis, e.g. "l4-d0.8-n14000".
std::string run_name(const RunParams& params);

}  // namespace s2s::report
