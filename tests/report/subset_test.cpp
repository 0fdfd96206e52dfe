// train_size on the user's data: seeded, nested subsets of a data file.
#include <gtest/gtest.h>

#include <filesystem>

#include "report/subset.h"
#include "s2s/csv.h"
#include "s2s/error.h"

namespace s2s::report {
namespace {
namespace fs = std::filesystem;

std::vector<Pair> pairs_of(const fs::path& file) {
  const Corpus c = read_pairs_csv(file.string());
  std::vector<Pair> out;
  for (std::size_t i = 0; i < c.size(); ++i) out.push_back(c.pair(i));
  return out;
}

TEST(Subset, IsSeededAndNested) {
  const std::vector<std::size_t> all = subset_rows(100, 100, 7);
  for (std::size_t n : {0, 1, 10, 50, 99}) {
    const std::vector<std::size_t> s = subset_rows(100, n, 7);
    EXPECT_EQ(s, std::vector<std::size_t>(all.begin(), all.begin() + n)) << n;
  }
  std::vector<std::size_t> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < 100; ++i) EXPECT_EQ(sorted[i], i);  // a permutation
  EXPECT_EQ(subset_rows(100, 30, 7), subset_rows(100, 30, 7));
  EXPECT_NE(subset_rows(100, 30, 7), subset_rows(100, 30, 8));
  EXPECT_NE(subset_rows(100, 30, 7), std::vector<std::size_t>(sorted.begin(), sorted.begin() + 30));
  EXPECT_THROW(subset_rows(10, 11, 7), Error);
}

TEST(Subset, FilesHoldTheSeededRowsAndTheSmallerIsAPrefixOfTheLarger) {
  const fs::path dir = fs::path(S2S_BINARY_DIR) / "tmp-subset-test";
  fs::remove_all(dir);
  const fs::path train = fs::path(S2S_FIXTURES_DIR) / "experiment/task/train.csv";
  write_subset(train, dir / "n10/train.csv", 10, 1);
  write_subset(train, dir / "n25/train.csv", 25, 1);
  const std::vector<Pair> all = pairs_of(train);
  const std::vector<Pair> small = pairs_of(dir / "n10/train.csv");
  const std::vector<Pair> large = pairs_of(dir / "n25/train.csv");
  ASSERT_EQ(small.size(), 10u);
  ASSERT_EQ(large.size(), 25u);
  EXPECT_EQ(small, std::vector<Pair>(large.begin(), large.begin() + 10));
  const std::vector<std::size_t> rows = subset_rows(all.size(), 25, 1);
  for (std::size_t i = 0; i < 25; ++i) EXPECT_EQ(large[i], all[rows[i]]) << i;
  try {
    write_subset(train, dir / "n41/train.csv", 41, 1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "--grid 'train_size=41': " + train.string() + " has only 40 rows");
  }
}

}  // namespace
}  // namespace s2s::report
