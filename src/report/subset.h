// Seeded, nested subsets of a data file: the `train_size` axis of an experiment on the user's
// data. The rows are put in one seeded order (data::shuffle, the same on every machine) and a
// subset of N rows is the first N of that order, so with one seed the subset of N rows is a
// prefix of the subset of M > N rows: a data-size study adds data, it does not redraw it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace s2s::report {

// The rows of a file of `rows` rows in the subset of `size` of them, in the seeded order.
// Throws s2s::Error when size > rows.
std::vector<std::size_t> subset_rows(std::size_t rows, std::size_t size, uint64_t seed);

// Writes the subset of `size` rows of the CSV data file `from` into `to` (atomically); the
// error for a file too small names the train_size axis and the file.
void write_subset(const std::filesystem::path& from, const std::filesystem::path& to, int64_t size,
                  uint64_t seed);

}  // namespace s2s::report
