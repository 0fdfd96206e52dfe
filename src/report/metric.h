// The numbers a report on the user's data shows for each run, as `s2s eval --json` reports them
// on a data file, and the metric (`s2s experiment --metric`) that ranks the runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace s2s::report {

// What ranks runs, always on the validation set (the test set, when given, is shown and never
// used to choose):
//   sentence_error_rate  share of distinct sources decoded (with the run's beam and length
//                        penalty) to none of their targets; lower is better. The default:
//                        it is the task's exact-match error and it sees the decode axes.
//   token_error_rate     edit distance to the closest target over its length; lower is better
//   exact_match          greedy decoding equals the row's target; higher is better
//   token_acc            greedy decoding, per target token; higher is better
//   loss                 teacher-forced NLL per target token; lower is better
enum class Metric { SentenceErrorRate, TokenErrorRate, ExactMatch, TokenAcc, Loss };

// Throws s2s::Error naming --metric and the accepted names.
Metric parse_metric(const std::string& name);
std::string to_string(Metric metric);
// All names, in the order above (for --help and messages).
const std::vector<std::string>& metric_names();
bool higher_is_better(Metric metric);

// One evaluation of a trained model on a data file (`s2s eval --json`'s fields).
struct EvalNumbers {
  double loss = 0;
  double exact_match = 0;  // "seq_acc"
  double token_acc = 0;
  double token_error_rate = 0;
  double sentence_error_rate = 0;
  int64_t rows = 0;
  int64_t sentences = 0;

  double value(Metric metric) const;
  std::string to_json() const;  // the fields above under eval's names, one line
  // `s2s eval --json`'s output (one JSON object); nullopt when it is not one or lacks a field.
  static std::optional<EvalNumbers> parse(const std::string& json);
};

}  // namespace s2s::report
