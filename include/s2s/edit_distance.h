// Levenshtein distance between token sequences: the fewest insertions, deletions and
// substitutions (each costing 1) that turn one into the other. Error rates (s2s/error_rates.h)
// count edits with it; over letters it is the CER's numerator, over phones the PER's, over
// words the WER's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace s2s {

int64_t edit_distance(const std::vector<std::string>& a, const std::vector<std::string>& b);

}  // namespace s2s
