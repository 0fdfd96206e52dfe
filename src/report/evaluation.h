// The evaluations of an experiment on the user's data, on disk: each is `s2s eval --json` of a
// run's best.pt on one split, its numbers kept in EvalSpec::result (one JSON line). A result is
// current while its run's best.pt is not newer; a run trained further is evaluated again.
#pragma once

#include <filesystem>
#include <optional>

#include "report/metric.h"
#include "report/plan.h"

namespace s2s::report {

// The stored numbers, or nullopt when there are none (or the file is damaged).
std::optional<EvalNumbers> read_eval_result(const Plan& plan, const EvalSpec& eval, Split split);

// True when the result exists and is not older than the run's best.pt.
bool eval_result_is_current(const Plan& plan, const EvalSpec& eval, Split split);

// After a finished `s2s eval --json` child: its numbers (the last line of its log) stored as
// the result, atomically; nullopt (and nothing written) when the log holds none.
std::optional<EvalNumbers> store_eval_result(const Plan& plan, const EvalSpec& eval, Split split);

// The user's files read before anything starts, so that a bad row, or a train_size larger than
// --train, is one error now rather than a failed run per configuration later.
void check_user_data(const ExperimentOptions& options, const Plan& plan);

}  // namespace s2s::report
