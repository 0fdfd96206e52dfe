// Built-in synthetic tasks: the course's zero-shift task (docs MISSION.md, "The zero-shift
// task") and small companions (copy, reverse, sort) so the toolkit is exercised on more than
// one task. Generation is deterministic: same task, options and seed -> same pairs on every
// platform (our own RNG, no std:: distributions).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "s2s/corpus.h"

namespace s2s {

struct TaskOptions {
  // Source length in tokens. zero-shift needs >= 8 (a run of k = 4 zeros needs 2k positions).
  int64_t length = 10;
  // copy / reverse / sort only: when > 0, each source length is drawn uniformly from
  // [min_length, length] (variable lengths exercise padding). zero-shift rejects it.
  int64_t min_length = 0;
};

// "zero-shift", "copy", "reverse", "sort".
std::vector<std::string> task_names();

// `count` pairs of `task`. Throws s2s::Error for an unknown task or invalid options.
//   zero-shift: L tokens; one run of k zeros, k uniform in {3, 4}, start s uniform over
//     s + 2k <= L; other tokens uniform digits 1..9. Target: the run moved right by k.
//   copy: digits 0..9; target = source.
//   reverse: digits 0..9; target = source reversed.
//   sort: digits 0..9; target = source sorted ascending.
std::vector<Pair> generate_task(const std::string& task, int64_t count, const TaskOptions& options,
                                uint64_t seed);

// A training and a validation set drawn from one seeded stream, with disjoint sources: no
// validation source appears in the training set (repeats within one set are allowed).
// Throws s2s::Error if the task has too few distinct sources to fill the validation set.
struct TaskSplit {
  std::vector<Pair> train;
  std::vector<Pair> valid;
};
TaskSplit generate_task_split(const std::string& task, int64_t train_count, int64_t valid_count,
                              const TaskOptions& options, uint64_t seed);

}  // namespace s2s
