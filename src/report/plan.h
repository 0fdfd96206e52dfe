// The plan of an experiment: which datasets to generate (or subsets of the user's data to take),
// which runs to train and how each trained model is evaluated, where each lives, how many run at
// once and with how many threads, and the exact child commands.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "report/grid.h"
#include "report/metric.h"
#include "s2s/search.h"

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
  int threads = 0;    // threads per job; 0: the cores shared among the jobs
  int64_t data_seed = 1;
  // The s2s binary that child processes run (`gen`, `train`, `plot`); the CLI passes itself.
  std::filesystem::path s2s;
  std::string command;      // the command line that reproduces this experiment, for the report
  std::string budget_note;  // why the epochs/patience were chosen, for the report
  // The course's figures sit beside runs on 1/course_data_scale of the course's data: 10 in
  // `s2s experiment course`, whose 280/560/1400-pair runs stand for the course's 2800/14000.
  int64_t course_data_scale = 1;

  // The user's data (--train, --valid, --test). With train_file set, every run trains on it (or
  // on a seeded subset of it when the grid has train_size) and validates on valid_file; each
  // trained model is then evaluated on valid_file (and test_file) once per decode setting, and
  // the report ranks the runs by `metric` on valid_file. Without it the data is generated
  // (zero-shift, validation 1/5 of train_size) and the report is the course's.
  std::filesystem::path train_file;
  std::filesystem::path valid_file;
  std::filesystem::path test_file;  // optional
  Metric metric = Metric::SentenceErrorRate;
  bool user_data() const { return !train_file.empty(); }
};

// The data of every run with the same train_size.
struct DataSpec {
  enum class Source {
    Generated,  // `s2s gen zero-shift` into dir
    Subset,     // the first train_size rows of a seeded shuffle of --train, written into dir
    File,       // --train itself (no train_size axis)
  };
  Source source = Source::Generated;
  int64_t train_size = 0;                        // 0: all of --train (Source::File)
  int64_t valid_size = 0;                        // Generated: train_size / 5, as in the course
  std::filesystem::path dir;                     // Generated and Subset: where the data is written
  std::filesystem::path train_file, valid_file;  // Subset and File: --train and --valid
  std::filesystem::path train_csv() const {
    return source == Source::File ? train_file : dir / "train.csv";
  }
  std::filesystem::path valid_csv() const {
    return source == Source::Generated ? dir / "valid.csv" : valid_file;
  }
};

// One training: a grid point without its decode axes.
struct RunSpec {
  std::string name;  // directory name under the experiment's out dir
  RunParams params;  // the grid point's training axes and train_size
  std::filesystem::path dir;
  std::filesystem::path log;  // the child's stdout and stderr
  int64_t train_size = 0;
  double cost = 0;  // relative estimate of training time, for scheduling and the budget
};

// Where an evaluation's data comes from.
enum class Split { Valid, Test };
const char* to_string(Split split);  // "valid", "test"

// A trained run decoded one way (user data only): a row of the report. Grid points that differ
// only in decode axes are evaluations of the same RunSpec, trained once.
struct EvalSpec {
  std::size_t run = 0;   // index into Plan::runs
  RunParams decode;      // the grid point's decode axes (beam, length_penalty)
  std::string name;      // the run's name plus the decode axes that vary, e.g. "l4-beam5"
  SearchOptions search;  // what the evaluation decodes with
  // The evaluation's result file in the run's directory: eval/valid-beam5-lpwu1.json. Runs of
  // different experiments decoded the same way share it.
  std::filesystem::path result(const RunSpec& run, Split split) const;
  std::filesystem::path log(const RunSpec& run, Split split) const;  // the child's output
};

struct Plan {
  std::vector<DataSpec> data;
  std::vector<RunSpec> runs;          // in grid order (the report's order)
  std::vector<EvalSpec> evals;        // user data: the grid points, in grid order
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

// argv (without the program) of `s2s eval ... --json` of a run's best.pt on one split.
std::vector<std::string> eval_args(const ExperimentOptions& options, const Plan& plan,
                                   const EvalSpec& eval, Split split);

// This machine's cores available to the process.
int available_cores();

}  // namespace s2s::report
