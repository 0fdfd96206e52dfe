#include "report/evaluation.h"

#include <fmt/core.h>

#include "report/child_process.h"
#include "s2s/csv.h"
#include "s2s/error.h"
#include "s2s/file_io.h"
#include "s2s/run_record.h"

namespace s2s::report {
namespace fs = std::filesystem;

std::optional<EvalNumbers> read_eval_result(const Plan& plan, const EvalSpec& eval, Split split) {
  const fs::path file = eval.result(plan.runs.at(eval.run), split);
  if (!fs::exists(file)) return std::nullopt;
  return EvalNumbers::parse(read_file(file.string()));
}

bool eval_result_is_current(const Plan& plan, const EvalSpec& eval, Split split) {
  const RunSpec& run = plan.runs.at(eval.run);
  const fs::path result = eval.result(run, split);
  const fs::path model = run.dir / run_files::kBestCheckpoint;
  if (!read_eval_result(plan, eval, split)) return false;
  return !fs::exists(model) || fs::last_write_time(result) >= fs::last_write_time(model);
}

std::optional<EvalNumbers> store_eval_result(const Plan& plan, const EvalSpec& eval, Split split) {
  const RunSpec& run = plan.runs.at(eval.run);
  const auto numbers = EvalNumbers::parse(last_line(eval.log(run, split)));
  if (numbers) write_file_atomic(eval.result(run, split).string(), numbers->to_json());
  return numbers;
}

void check_user_data(const ExperimentOptions& options, const Plan& plan) {
  for (const fs::path& file : {options.valid_file, options.test_file})
    if (!file.empty()) read_pairs_csv(file.string());
  const std::size_t rows = read_pairs_csv(options.train_file.string()).size();
  for (const DataSpec& data : plan.data)
    if (data.source == DataSpec::Source::Subset && static_cast<std::size_t>(data.train_size) > rows)
      throw Error(fmt::format("--grid 'train_size={}': {} has only {} rows", data.train_size,
                              options.train_file.string(), rows));
}

}  // namespace s2s::report
