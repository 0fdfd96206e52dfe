// Built-in synthetic tasks (see include/s2s/tasks.h and docs MISSION.md, "The zero-shift task").
#include "s2s/tasks.h"

#include <fmt/core.h>

#include <algorithm>
#include <string>
#include <unordered_set>

#include "data/rng.h"
#include "s2s/error.h"

namespace s2s {
namespace {

using data::Rng;

const std::string kDigits[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
constexpr int64_t kMaxLength = 10000;

enum class Task { ZeroShift, Copy, Reverse, Sort };

Task parse_task(const std::string& name) {
  if (name == "zero-shift") return Task::ZeroShift;
  if (name == "copy") return Task::Copy;
  if (name == "reverse") return Task::Reverse;
  if (name == "sort") return Task::Sort;
  throw Error(
      fmt::format("unknown task '{}' (expected one of: zero-shift, copy, reverse, sort)", name));
}

void check_options(Task task, const TaskOptions& o) {
  if (o.length < 1 || o.length > kMaxLength) {
    throw Error(fmt::format("--length must be in 1..{}, got {}", kMaxLength, o.length));
  }
  if (task == Task::ZeroShift) {
    if (o.length < 8) {
      throw Error(fmt::format(
          "zero-shift needs --length >= 8 (a run of 4 zeros moves 4 places), got {}", o.length));
    }
    if (o.min_length != 0 && o.min_length != o.length) {
      throw Error("zero-shift sequences have a fixed length: --min-length does not apply");
    }
  } else if (o.min_length < 0 || o.min_length > o.length) {
    throw Error(
        fmt::format("--min-length must be in 1..--length ({}), got {}", o.length, o.min_length));
  }
}

// The contract, to the letter: L tokens, one run of k in {3, 4} zeros (k uniform) at s with
// s + 2k <= L (s uniform over the valid starts), other tokens uniform 1..9; the target moves
// the run right by k.
Pair zero_shift(Rng& rng, int64_t length) {
  const int64_t k = rng.between(3, 4);
  const int64_t s = rng.between(0, length - 2 * k);
  Pair p;
  p.source.resize(static_cast<size_t>(length));
  for (int64_t i = 0; i < length; ++i) {
    const bool in_run = i >= s && i < s + k;
    p.source[static_cast<size_t>(i)] = in_run ? kDigits[0] : kDigits[rng.between(1, 9)];
  }
  p.target = p.source;
  for (int64_t i = 0; i < k; ++i) {
    p.target[static_cast<size_t>(s + i)] = p.source[static_cast<size_t>(s + k + i)];
    p.target[static_cast<size_t>(s + k + i)] = kDigits[0];
  }
  return p;
}

Pair digits_task(Task task, Rng& rng, const TaskOptions& o) {
  const int64_t length = o.min_length > 0 ? rng.between(o.min_length, o.length) : o.length;
  Pair p;
  p.source.reserve(static_cast<size_t>(length));
  for (int64_t i = 0; i < length; ++i) p.source.push_back(kDigits[rng.between(0, 9)]);
  p.target = p.source;
  if (task == Task::Reverse) std::reverse(p.target.begin(), p.target.end());
  if (task == Task::Sort) std::sort(p.target.begin(), p.target.end());
  return p;
}

Pair one(Task task, Rng& rng, const TaskOptions& o) {
  return task == Task::ZeroShift ? zero_shift(rng, o.length) : digits_task(task, rng, o);
}

std::string key_of(const std::vector<std::string>& tokens) {
  std::string key;
  for (const std::string& t : tokens) {
    key += t;
    key.push_back(' ');
  }
  return key;
}

void check_count(const char* what, int64_t count) {
  if (count < 0) throw Error(fmt::format("{} must be >= 0, got {}", what, count));
}

}  // namespace

std::vector<std::string> task_names() {
  return {"zero-shift", "copy", "reverse", "sort"};
}

std::vector<Pair> generate_task(const std::string& name, int64_t count, const TaskOptions& options,
                                uint64_t seed) {
  const Task task = parse_task(name);
  check_options(task, options);
  check_count("--count", count);
  Rng rng(seed);
  std::vector<Pair> pairs;
  pairs.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) pairs.push_back(one(task, rng, options));
  return pairs;
}

TaskSplit generate_task_split(const std::string& name, int64_t train_count, int64_t valid_count,
                              const TaskOptions& options, uint64_t seed) {
  const Task task = parse_task(name);
  check_options(task, options);
  check_count("--train", train_count);
  check_count("--valid", valid_count);
  // The training set is exactly generate_task(name, train_count, options, seed); validation
  // continues the same stream and rejects any source the training set holds.
  Rng rng(seed);
  TaskSplit split;
  split.train.reserve(static_cast<size_t>(train_count));
  std::unordered_set<std::string> train_sources;
  for (int64_t i = 0; i < train_count; ++i) {
    split.train.push_back(one(task, rng, options));
    train_sources.insert(key_of(split.train.back().source));
  }
  split.valid.reserve(static_cast<size_t>(valid_count));
  const int64_t max_draws = 100 * valid_count + 10000;
  for (int64_t draws = 0; static_cast<int64_t>(split.valid.size()) < valid_count; ++draws) {
    if (draws >= max_draws) {
      throw Error(fmt::format(
          "{} with --length {} has too few distinct sources: found only {} of {} validation "
          "rows unseen in training after {} draws",
          name, options.length, split.valid.size(), valid_count, draws));
    }
    Pair p = one(task, rng, options);
    if (train_sources.count(key_of(p.source)) == 0) split.valid.push_back(std::move(p));
  }
  return split;
}

}  // namespace s2s
