// The course's conclusions, judged from our numbers. Each claim is tested on every pair of
// finished runs that differ in exactly one grid axis (e.g. dropout 0 vs 0.8, all else equal);
// the verdict and its evidence are generated from the runs, never written by hand.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/grid.h"

namespace s2s::report {

// What the judge needs to know about one run.
struct Observation {
  std::string name;
  RunParams params;
  bool finished = false;
  std::optional<double> seq_acc;     // best validation sequence accuracy
  std::optional<int> overfit_epoch;  // none: did not overfit in `epochs_run`
  int epochs_run = 0;
};

enum class Verdict { Supported, Contradicted, Mixed, Inconclusive, NotTested };

const char* to_string(Verdict verdict);

// Two runs that differ in one setting only, by the lower and the higher value of that setting.
struct ComparedRuns {
  std::string low;
  std::string high;
  bool operator==(const ComparedRuns& other) const {
    return low == other.low && high == other.high;
  }
};

struct Conclusion {
  std::string claim;
  Verdict verdict = Verdict::NotTested;
  std::string summary;                 // one generated sentence
  std::vector<std::string> evidence;   // one line per compared pair, with its numbers
  std::vector<ComparedRuns> compared;  // the pair behind each evidence line, in the same order
};

struct JudgeOptions {
  // Accuracies closer than this (absolute, 0.005 = half a percentage point) are a tie.
  double acc_margin = 0.005;
};

std::vector<Conclusion> judge_course_conclusions(const std::vector<Observation>& runs,
                                                 const JudgeOptions& options = {});

// Every pair of runs some claim compares, each once, in the order the claims meet them. Only the
// runs' names and settings matter, so a plan's runs give the pairs before anything is trained
// (the report draws one chart per pair, under the claims that use it).
std::vector<ComparedRuns> compared_pairs(const std::vector<Observation>& runs);

}  // namespace s2s::report
