#include "report/plan.h"

#include <fmt/core.h>
#include <sched.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <thread>

#include "s2s/error.h"
#include "s2s/run_record.h"

namespace s2s::report {
namespace {

bool has_key(const RunParams& params, const std::string& key) {
  return std::any_of(params.begin(), params.end(), [&](const auto& kv) { return kv.first == key; });
}

// The training part of a grid point: its training axes and train_size.
RunParams training_part(const RunParams& point) {
  RunParams out;
  for (const auto& kv : point)
    if (axis_kind(kv.first) != AxisKind::Decode) out.push_back(kv);
  return out;
}

// Only the axes that vary name a run, so "layers=1,4 hidden=64" gives "l1", "l4".
RunParams shown_params(const RunParams& params, const std::set<std::string>& varying) {
  RunParams shown;
  for (const auto& kv : params)
    if (varying.count(kv.first) != 0) shown.push_back(kv);
  return shown;
}

// Dropout acts between stacked layers (as in PyTorch); with one layer it changes nothing, so
// such a run would repeat the dropout-0 run. The course's study has no 1-layer dropout run.
bool is_redundant(const RunParams& params, const std::vector<RunParams>& all) {
  if (param_or(params, "layers", "") != "1") return false;
  const std::string dropout = param_or(params, "dropout", "0");
  if (dropout == "0") return false;
  RunParams twin = params;
  for (auto& [k, v] : twin)
    if (k == "dropout") v = "0";
  return std::find(all.begin(), all.end(), twin) != all.end();
}

std::string setting_or_default(const RunParams& params, const std::string& key) {
  return param_or(params, key, find_train_setting(key)->default_value);
}

double cost_of(const RunParams& params, const ExperimentOptions& options) {
  const double n = std::stod(param_or(params, "train_size", std::to_string(kDefaultTrainSize)));
  const double layers = std::stod(setting_or_default(params, "layers"));
  const double hidden = std::stod(setting_or_default(params, "hidden"));
  const double epochs = std::stod(
      param_or(params, "epochs", std::to_string(options.epochs > 0 ? options.epochs : 1)));
  // Per pair and epoch a GRU layer costs ~hidden^2 (two layer stacks: encoder and decoder).
  return n * 1.2 * epochs * layers * hidden * hidden;
}

DataSpec data_spec(const ExperimentOptions& options, const RunParams& params) {
  DataSpec data;
  const bool sized = has_key(params, "train_size");
  data.train_size = sized ? std::stoll(param_or(params, "train_size", ""))
                          : (options.user_data() ? 0 : kDefaultTrainSize);
  data.dir = options.out / "data" / fmt::format("n{}", data.train_size);
  if (!options.user_data()) {
    data.valid_size = std::max<int64_t>(1, data.train_size / 5);
    return data;
  }
  data.source = sized ? DataSpec::Source::Subset : DataSpec::Source::File;
  if (!sized) data.dir.clear();
  data.train_file = options.train_file;
  data.valid_file = options.valid_file;
  return data;
}

SearchOptions search_of(const RunParams& decode) {
  SearchOptions search;
  search.beam = std::stoll(param_or(decode, "beam", std::to_string(search.beam)));
  search.length_penalty =
      LengthPenalty::parse(param_or(decode, "length_penalty", search.length_penalty.to_string()));
  return search;
}

// A file name part for a decode setting: "beam5-lpwu1" (no ':' in file names).
std::string decode_stem(const SearchOptions& search) {
  std::string penalty = search.length_penalty.to_string();
  penalty.erase(std::remove(penalty.begin(), penalty.end(), ':'), penalty.end());
  return fmt::format("beam{}-lp{}", search.beam, penalty);
}

}  // namespace

const char* to_string(Split split) {
  return split == Split::Valid ? "valid" : "test";
}

std::filesystem::path EvalSpec::result(const RunSpec& run, Split split) const {
  return run.dir / "eval" / fmt::format("{}-{}.json", to_string(split), decode_stem(search));
}

std::filesystem::path EvalSpec::log(const RunSpec& run, Split split) const {
  return run.dir / "eval" / fmt::format("{}-{}.log", to_string(split), decode_stem(search));
}

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

Plan make_plan(const ExperimentOptions& options) {
  if (options.jobs < 0) throw Error(fmt::format("--jobs must be at least 1, got {}", options.jobs));
  std::set<std::string> varying;
  for (const GridAxis& axis : options.grid.axes) {
    if (axis.values.size() > 1) varying.insert(axis.key);
    if (axis_kind(axis.key) == AxisKind::Decode && !options.user_data())
      throw Error(fmt::format(
          "--grid: {} is applied when trained models are evaluated on --valid: give --train and "
          "--valid (the generated-data study reports training's own validation)",
          axis.key));
  }
  Plan plan;
  const std::vector<RunParams> points = expand(options.grid);
  std::vector<RunParams> trainings;  // distinct training parts, in grid order
  for (const RunParams& point : points) {
    RunParams t = training_part(point);
    if (std::find(trainings.begin(), trainings.end(), t) == trainings.end())
      trainings.push_back(std::move(t));
  }

  std::map<RunParams, std::size_t> run_index;
  std::map<int64_t, std::size_t> data_index;
  for (const RunParams& params : trainings) {
    RunSpec run;
    run.params = params;
    const RunParams shown = shown_params(params, varying);
    run.name = run_name(shown.empty() ? params : shown);
    if (run.name.empty()) run.name = "run";  // a grid of decode axes only: one training
    if (is_redundant(params, trainings)) {
      plan.notes.push_back(fmt::format(
          "skipped {}: with 1 layer dropout has no effect (it acts between stacked layers), so "
          "it would repeat the dropout-0 run",
          run.name));
      continue;
    }
    run.dir = options.out / run.name;
    run.log = options.out / "logs" / (run.name + ".log");
    const DataSpec data = data_spec(options, params);
    run.train_size = data.train_size;
    run.cost = cost_of(params, options);
    if (data_index.count(run.train_size) == 0) {
      data_index[run.train_size] = plan.data.size();
      plan.data.push_back(data);
    }
    run_index[params] = plan.runs.size();
    plan.runs.push_back(std::move(run));
  }

  if (options.user_data())
    for (const RunParams& point : points) {
      const auto it = run_index.find(training_part(point));
      if (it == run_index.end()) continue;  // skipped above
      EvalSpec eval;
      eval.run = it->second;
      eval.decode = params_of_kind(point, AxisKind::Decode);
      eval.search = search_of(eval.decode);
      const RunParams shown = shown_params(point, varying);
      eval.name = shown.empty() ? plan.runs[eval.run].name : run_name(shown);
      plan.evals.push_back(std::move(eval));
    }

  const int cores = options.cores > 0 ? options.cores : available_cores();
  // Automatic: one single-threaded run per core. A run gains little from a second thread (the
  // RNN steps are small GEMMs and each thread team meets at a barrier per step; see
  // docs/PERFORMANCE.md), while a second run on the other core doubles the throughput.
  const int jobs = options.jobs > 0 ? options.jobs : cores;
  plan.jobs = std::max(1, std::min<int>(jobs, static_cast<int>(plan.runs.size())));
  plan.threads_per_job = options.threads > 0 ? options.threads : std::max(1, cores / plan.jobs);
  if (plan.jobs > cores)
    plan.notes.push_back(
        fmt::format("--jobs {} is more than the {} cores: each run gets 1 thread and they compete",
                    plan.jobs, cores));

  // One job: cheapest first, so the report has results early. Several: longest first, which
  // keeps the jobs busy to the end (the classic longest-processing-time rule).
  plan.schedule.resize(plan.runs.size());
  std::iota(plan.schedule.begin(), plan.schedule.end(), 0);
  std::stable_sort(plan.schedule.begin(), plan.schedule.end(), [&](std::size_t a, std::size_t b) {
    return plan.jobs == 1 ? plan.runs[a].cost < plan.runs[b].cost
                          : plan.runs[a].cost > plan.runs[b].cost;
  });
  return plan;
}

const DataSpec& data_for(const Plan& plan, const RunSpec& run) {
  for (const DataSpec& data : plan.data)
    if (data.train_size == run.train_size) return data;
  throw Error(fmt::format("no dataset planned for run {}", run.name), 1);
}

std::vector<std::string> gen_args(const DataSpec& data, int64_t seed) {
  return {"gen",       "zero-shift",
          "--train",   std::to_string(data.train_size),
          "--valid",   std::to_string(data.valid_size),
          "--seed",    std::to_string(seed),
          "--out-dir", data.dir.string()};
}

std::vector<std::string> train_args(const ExperimentOptions& options, const Plan& plan,
                                    const RunSpec& run, bool resume) {
  // A resumed run gets the flags of a fresh one: the trainer refuses those that would change its
  // model or data (s2s/run_record.h's run-defining settings) and applies and records the others,
  // so a larger --epochs or --patience continues it.
  const DataSpec& data = data_for(plan, run);
  std::vector<std::string> args{"train",
                                "--train",
                                data.train_csv().string(),
                                "--valid",
                                data.valid_csv().string(),
                                resume ? "--resume" : "--out",
                                run.dir.string()};
  for (const auto& [key, value] : params_of_kind(run.params, AxisKind::Training)) {
    const std::vector<std::string> flag = find_train_setting(key)->flag_args(value);
    args.insert(args.end(), flag.begin(), flag.end());
  }
  if (options.epochs > 0 && !has_key(run.params, "epochs"))
    args.insert(args.end(), {"--epochs", std::to_string(options.epochs)});
  if (options.patience >= 0 && !has_key(run.params, "patience"))
    args.insert(args.end(), {"--patience", std::to_string(options.patience)});
  args.insert(args.end(), {"--threads", std::to_string(plan.threads_per_job)});
  return args;
}

}  // namespace s2s::report

namespace s2s::report {

std::vector<std::string> eval_args(const ExperimentOptions& options, const Plan& plan,
                                   const EvalSpec& eval, Split split) {
  const RunSpec& run = plan.runs.at(eval.run);
  const std::filesystem::path data = split == Split::Valid ? options.valid_file : options.test_file;
  return {"eval",
          "--model",
          (run.dir / run_files::kBestCheckpoint).string(),
          "--data",
          data.string(),
          "--json",
          "--beam",
          std::to_string(eval.search.beam),
          "--length-penalty",
          eval.search.length_penalty.to_string(),
          "--threads",
          std::to_string(plan.threads_per_job)};
}

}  // namespace s2s::report
