#include "report/plan.h"

#include <fmt/core.h>
#include <sched.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <thread>

#include "s2s/error.h"

namespace s2s::report {
namespace {

// Keys that are not `s2s train` flags of the same name.
bool is_train_flag(const std::string& key) {
  return key != "train_size";
}

std::string flag_of(const std::string& key) {
  std::string flag = "--" + key;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

bool has_key(const RunParams& params, const std::string& key) {
  return std::any_of(params.begin(), params.end(), [&](const auto& kv) { return kv.first == key; });
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

double cost_of(const RunParams& params, const ExperimentOptions& options) {
  const double n = std::stod(param_or(params, "train_size", std::to_string(kDefaultTrainSize)));
  const double layers = std::stod(param_or(params, "layers", "4"));
  const double hidden = std::stod(param_or(params, "hidden", "256"));
  const double epochs = std::stod(
      param_or(params, "epochs", std::to_string(options.epochs > 0 ? options.epochs : 1)));
  // Per pair and epoch a GRU layer costs ~hidden^2 (two layer stacks: encoder and decoder).
  return n * 1.2 * epochs * layers * hidden * hidden;
}

}  // namespace

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

Plan make_plan(const ExperimentOptions& options) {
  if (options.jobs < 0) throw Error(fmt::format("--jobs must be at least 1, got {}", options.jobs));
  Plan plan;
  const std::vector<RunParams> all = expand(options.grid);

  // Run names use only the axes that vary, so "layers=1,4 hidden=64" gives "l1", "l4".
  std::set<std::string> varying;
  for (const GridAxis& axis : options.grid.axes)
    if (axis.values.size() > 1) varying.insert(axis.key);

  std::map<int64_t, std::size_t> data_index;
  for (const RunParams& params : all) {
    RunParams shown;
    for (const auto& kv : params)
      if (varying.count(kv.first) != 0) shown.push_back(kv);
    RunSpec run;
    run.params = params;
    run.name = run_name(shown.empty() ? params : shown);
    if (is_redundant(params, all)) {
      plan.notes.push_back(fmt::format(
          "skipped {}: with 1 layer dropout has no effect (it acts between stacked layers), so "
          "it would repeat the dropout-0 run",
          run.name));
      continue;
    }
    run.dir = options.out / run.name;
    run.log = options.out / "logs" / (run.name + ".log");
    run.train_size = std::stoll(param_or(params, "train_size", std::to_string(kDefaultTrainSize)));
    run.cost = cost_of(params, options);
    if (data_index.count(run.train_size) == 0) {
      DataSpec data;
      data.train_size = run.train_size;
      data.valid_size = std::max<int64_t>(1, run.train_size / 5);
      data.dir = options.out / "data" / fmt::format("n{}", run.train_size);
      data_index[run.train_size] = plan.data.size();
      plan.data.push_back(data);
    }
    plan.runs.push_back(std::move(run));
  }

  const int cores = options.cores > 0 ? options.cores : available_cores();
  // Automatic: one single-threaded run per core. A run gains little from a second thread (the
  // RNN steps are small GEMMs and each thread team meets at a barrier per step; see
  // docs/PERFORMANCE.md), while a second run on the other core doubles the throughput.
  const int jobs = options.jobs > 0 ? options.jobs : cores;
  plan.jobs = std::max(1, std::min<int>(jobs, static_cast<int>(plan.runs.size())));
  plan.threads_per_job = std::max(1, cores / plan.jobs);
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
  for (const auto& [key, value] : run.params)
    if (is_train_flag(key)) args.insert(args.end(), {flag_of(key), value});
  if (options.epochs > 0 && !has_key(run.params, "epochs"))
    args.insert(args.end(), {"--epochs", std::to_string(options.epochs)});
  if (options.patience >= 0 && !has_key(run.params, "patience"))
    args.insert(args.end(), {"--patience", std::to_string(options.patience)});
  args.insert(args.end(), {"--threads", std::to_string(plan.threads_per_job)});
  return args;
}

}  // namespace s2s::report
