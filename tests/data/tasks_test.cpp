// The generators against the spec (docs MISSION.md, "The zero-shift task"), checked by an
// independent reference written here: it parses each row back into (k, s) and rebuilds the
// target by rotating the source's window [s, s + 2k) left by k, a formulation the generator
// does not use.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "s2s/error.h"
#include "s2s/tasks.h"

namespace s2s {
namespace {

struct ZeroShiftRow {
  bool valid = false;
  std::string why;
  int k = 0;
  int s = 0;
};

// Checks one row against the contract; returns its (k, s) when valid.
ZeroShiftRow check_zero_shift(const Pair& p, int length) {
  ZeroShiftRow r;
  if (static_cast<int>(p.source.size()) != length) return {false, "source length", 0, 0};
  if (p.target.size() != p.source.size()) return {false, "target length", 0, 0};
  std::vector<int> zeros;
  for (int i = 0; i < length; ++i) {
    const std::string& t = p.source[static_cast<size_t>(i)];
    if (t == "0") {
      zeros.push_back(i);
    } else if (t.size() != 1 || t[0] < '1' || t[0] > '9') {
      return {false, "token '" + t + "' is not a digit 0..9", 0, 0};
    }
  }
  if (zeros.size() != 3 && zeros.size() != 4) return {false, "zero count", 0, 0};
  r.k = static_cast<int>(zeros.size());
  r.s = zeros.front();
  if (zeros.back() - zeros.front() + 1 != r.k) return {false, "zeros not one run", 0, 0};
  if (r.s + 2 * r.k > length) return {false, "s + 2k > L", 0, 0};
  std::vector<std::string> expected = p.source;
  std::rotate(expected.begin() + r.s, expected.begin() + r.s + r.k,
              expected.begin() + r.s + 2 * r.k);
  if (expected != p.target) return {false, "target is not the shifted source", 0, 0};
  r.valid = true;
  return r;
}

// Pearson's chi-square statistic of observed counts against equal expected counts.
double chi_square_uniform(const std::vector<int64_t>& counts) {
  double total = 0;
  for (int64_t c : counts) total += static_cast<double>(c);
  const double expected = total / static_cast<double>(counts.size());
  double chi = 0;
  for (int64_t c : counts)
    chi += (static_cast<double>(c) - expected) * (static_cast<double>(c) - expected) / expected;
  return chi;
}

TEST(ZeroShift, TheCoursesExampleIsValidUnderTheReference) {
  const Pair example = {{"0", "0", "0", "5", "3", "8", "2", "7", "1", "4"},
                        {"5", "3", "8", "0", "0", "0", "2", "7", "1", "4"}};
  const ZeroShiftRow r = check_zero_shift(example, 10);
  EXPECT_TRUE(r.valid) << r.why;
  EXPECT_EQ(r.k, 3);
  EXPECT_EQ(r.s, 0);
  // The reference rejects what the spec forbids.
  Pair wrong = example;
  wrong.target[9] = "5";
  EXPECT_FALSE(check_zero_shift(wrong, 10).valid);
  EXPECT_FALSE(check_zero_shift({{"0", "0", "1", "5", "3", "8", "2", "7", "1", "4"},
                                 {"0", "0", "1", "5", "3", "8", "2", "7", "1", "4"}},
                                10)
                   .valid);
}

TEST(ZeroShift, EveryRowSatisfiesTheSpec) {
  for (int length : {8, 10, 13}) {
    TaskOptions o;
    o.length = length;
    const auto pairs = generate_task("zero-shift", 5000, o, 42);
    ASSERT_EQ(pairs.size(), 5000u);
    for (size_t i = 0; i < pairs.size(); ++i) {
      const ZeroShiftRow r = check_zero_shift(pairs[i], length);
      ASSERT_TRUE(r.valid) << "L=" << length << " row " << i << ": " << r.why;
    }
  }
}

TEST(ZeroShift, RunLengthStartAndDigitsAreUniform) {
  const int n = 60000;
  const auto pairs = generate_task("zero-shift", n, {}, 2024);
  std::vector<int64_t> k_counts(2, 0);
  std::map<int, std::vector<int64_t>> s_counts = {{3, std::vector<int64_t>(5, 0)},
                                                  {4, std::vector<int64_t>(3, 0)}};
  std::vector<int64_t> digit_counts(9, 0);
  for (const Pair& p : pairs) {
    const ZeroShiftRow r = check_zero_shift(p, 10);
    ASSERT_TRUE(r.valid) << r.why;
    ++k_counts[static_cast<size_t>(r.k - 3)];
    ++s_counts[r.k][static_cast<size_t>(r.s)];  // s in 0..L-2k: 5 starts for k=3, 3 for k=4
    for (const std::string& t : p.source) {
      if (t != "0") ++digit_counts[static_cast<size_t>(t[0] - '1')];
    }
  }
  // Critical values of chi-square at p = 0.001: 1 dof 10.83, 2 dof 13.82, 4 dof 18.47,
  // 8 dof 26.12. The seed is fixed, so this is deterministic; a biased generator fails.
  EXPECT_LT(chi_square_uniform(k_counts), 10.83);
  EXPECT_LT(chi_square_uniform(s_counts[3]), 18.47);
  EXPECT_LT(chi_square_uniform(s_counts[4]), 13.82);
  EXPECT_LT(chi_square_uniform(digit_counts), 26.12);
  // And the statistic does detect bias: shift 3% of k=3 rows' weight.
  std::vector<int64_t> biased = k_counts;
  biased[0] += n / 30;
  biased[1] -= n / 30;
  EXPECT_GT(chi_square_uniform(biased), 10.83);
}

TEST(ZeroShift, SameSeedSamePairsOtherSeedOtherPairs) {
  const auto a = generate_task("zero-shift", 1000, {}, 5);
  const auto b = generate_task("zero-shift", 1000, {}, 5);
  const auto c = generate_task("zero-shift", 1000, {}, 6);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // Pinned rows of seed 7: the generator must not drift between versions or platforms
  // (its RNG and draws are our own, not std:: distributions).
  const auto pinned = generate_task("zero-shift", 2, {}, 7);
  const std::vector<Pair> expected = {{{"0", "0", "0", "0", "8", "9", "9", "8", "1", "1"},
                                       {"8", "9", "9", "8", "0", "0", "0", "0", "1", "1"}},
                                      {{"0", "0", "0", "5", "7", "9", "8", "5", "6", "3"},
                                       {"5", "7", "9", "0", "0", "0", "8", "5", "6", "3"}}};
  EXPECT_EQ(pinned, expected);
}

TEST(ZeroShift, CourseSplitIsDisjointAndSized) {
  const TaskSplit split = generate_task_split("zero-shift", 14000, 2800, {}, 1);
  ASSERT_EQ(split.train.size(), 14000u);
  ASSERT_EQ(split.valid.size(), 2800u);
  std::set<std::vector<std::string>> train_sources;
  for (const Pair& p : split.train) {
    ASSERT_TRUE(check_zero_shift(p, 10).valid);
    train_sources.insert(p.source);
  }
  for (const Pair& p : split.valid) {
    ASSERT_TRUE(check_zero_shift(p, 10).valid);
    EXPECT_EQ(train_sources.count(p.source), 0u);
  }
  // The training part is the plain stream of the same seed.
  EXPECT_EQ(split.train, generate_task("zero-shift", 14000, {}, 1));
  const TaskSplit again = generate_task_split("zero-shift", 14000, 2800, {}, 1);
  EXPECT_EQ(split.train, again.train);
  EXPECT_EQ(split.valid, again.valid);
}

TEST(ZeroShift, RejectsImpossibleOptions) {
  TaskOptions short_length;
  short_length.length = 7;
  EXPECT_THROW(generate_task("zero-shift", 1, short_length, 1), Error);
  TaskOptions variable;
  variable.min_length = 5;
  EXPECT_THROW(generate_task("zero-shift", 1, variable, 1), Error);
  EXPECT_THROW(generate_task("zero-shift", -1, {}, 1), Error);
  EXPECT_THROW(generate_task("shift", 1, {}, 1), Error);
}

TEST(Tasks, SplitFailsWhenTooFewDistinctSources) {
  TaskOptions tiny;
  tiny.length = 1;  // 10 possible sources
  try {
    generate_task_split("copy", 1000, 10, tiny, 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("too few distinct sources"), std::string::npos);
  }
}

TEST(Tasks, CopyReverseSortMatchTheirDefinitions) {
  TaskOptions o;
  o.length = 12;
  o.min_length = 3;
  std::set<size_t> lengths;
  for (const std::string task : {"copy", "reverse", "sort"}) {
    for (const Pair& p : generate_task(task, 2000, o, 9)) {
      ASSERT_GE(p.source.size(), 3u);
      ASSERT_LE(p.source.size(), 12u);
      lengths.insert(p.source.size());
      for (const std::string& t : p.source)
        ASSERT_TRUE(t.size() == 1 && t[0] >= '0' && t[0] <= '9');
      std::vector<std::string> expected(p.source);
      if (task == "reverse") expected.assign(p.source.rbegin(), p.source.rend());
      if (task == "sort") {
        // Counting sort: an independent formulation of ascending order for single digits.
        std::vector<int> counts(10, 0);
        for (const std::string& t : p.source) ++counts[static_cast<size_t>(t[0] - '0')];
        expected.clear();
        for (int d = 0; d < 10; ++d)
          expected.insert(expected.end(), static_cast<size_t>(counts[static_cast<size_t>(d)]),
                          std::string(1, static_cast<char>('0' + d)));
      }
      ASSERT_EQ(p.target, expected) << task;
    }
  }
  EXPECT_EQ(lengths.size(), 10u);  // every length 3..12 occurs
  EXPECT_EQ(task_names(), (std::vector<std::string>{"zero-shift", "copy", "reverse", "sort"}));
}

}  // namespace
}  // namespace s2s
