// The plan of an experiment: which datasets to generate, which runs to train, where each lives,
// how many run at once and with how many threads, and the exact child commands.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "report/grid.h"

namespace s2s::report {

struct ExperimentOptions {
  std::string name = "grid";  // "course" or "grid": titles the report
  std::string grid_text;      // as the user gave it, for the record
  Grid grid;
  std::filesystem::path out;
  int epochs = 0;     // passed as --epochs unless the grid sets it; 0: the trainer's default
  int patience = -1;  // passed as --patience unless the grid sets it; < 0: the trainer's default
  int jobs = 0;       // runs trained at once; 0: automatic (see make_plan)
  int cores = 0;      // cores to share among the jobs; 0: this machine's
  int64_t data_seed = 1;
  // The s2s binary that child processes run (`gen`, `train`, `plot`); the CLI passes itself.
  std::filesystem::path s2s;
  std::string command;      // the command line that reproduces this experiment, for the report
  std::string budget_note;  // why the epochs/patience were chosen, for the report
};

// A generated zero-shift dataset shared by every run with the same train_size.
struct DataSpec {
  int64_t train_size = 0;
  int64_t valid_size = 0;  // train_size / 5, as in the course
  std::filesystem::path dir;
  std::filesystem::path train_csv() const { return dir / "train.csv"; }
  std::filesystem::path valid_csv() const { return dir / "valid.csv"; }
};

struct RunSpec {
  std::string name;  // directory name under the experiment's out dir
  RunParams params;  // the grid point
  std::filesystem::path dir;
  std::filesystem::path log;  // the child's stdout and stderr
  int64_t train_size = 0;
  double cost = 0;  // relative estimate of training time, for scheduling and the budget
};

struct Plan {
  std::vector<DataSpec> data;
  std::vector<RunSpec> runs;          // in grid order (the report's order)
  std::vector<std::string> notes;     // runs left out and why; warnings about jobs/cores
  std::vector<std::size_t> schedule;  // indices into runs, in the order to start them
  int jobs = 1;
  int threads_per_job = 1;
};

// The default training-set size when the grid does not vary it: the course's 14000 pairs.
constexpr int64_t kDefaultTrainSize = 14000;

Plan make_plan(const ExperimentOptions& options);

const DataSpec& data_for(const Plan& plan, const RunSpec& run);

// argv (without the program) of `s2s gen zero-shift ...` for one dataset.
std::vector<std::string> gen_args(const DataSpec& data, int64_t seed);

// argv (without the program) of `s2s train ...` for a run that starts from scratch, or that
// resumes from its last checkpoint (the same flags, --resume DIR instead of --out DIR).
std::vector<std::string> train_args(const ExperimentOptions& options, const Plan& plan,
                                    const RunSpec& run, bool resume);

// This machine's cores available to the process.
int available_cores();

}  // namespace s2s::report
