#include "report/subset.h"

#include <fmt/core.h>

#include <numeric>

#include "data/rng.h"
#include "s2s/csv.h"
#include "s2s/error.h"

namespace s2s::report {

std::vector<std::size_t> subset_rows(std::size_t rows, std::size_t size, uint64_t seed) {
  if (size > rows) throw Error(fmt::format("a subset of {} rows of a file of {} rows", size, rows));
  std::vector<std::size_t> order(rows);
  std::iota(order.begin(), order.end(), std::size_t{0});
  data::Rng rng(seed);
  data::shuffle(order.data(), order.size(), rng);
  order.resize(size);
  return order;
}

void write_subset(const std::filesystem::path& from, const std::filesystem::path& to, int64_t size,
                  uint64_t seed) {
  const Corpus corpus = read_pairs_csv(from.string());
  if (size < 0 || static_cast<std::size_t>(size) > corpus.size())
    throw Error(fmt::format("--grid 'train_size={}': {} has only {} rows", size, from.string(),
                            corpus.size()));
  std::vector<Pair> pairs;
  pairs.reserve(static_cast<std::size_t>(size));
  for (std::size_t row : subset_rows(corpus.size(), static_cast<std::size_t>(size), seed))
    pairs.push_back(corpus.pair(row));
  std::filesystem::create_directories(to.parent_path());
  write_pairs_csv(to.string(), pairs);
}

}  // namespace s2s::report
