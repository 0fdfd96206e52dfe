// The textbook dynamic programme over one row: row[j] is the distance between the first i
// tokens of a and the first j of b.
#include "s2s/edit_distance.h"

#include <algorithm>
#include <numeric>

namespace s2s {

int64_t edit_distance(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<int64_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);  // a empty: j insertions
  for (size_t i = 1; i <= a.size(); ++i) {
    int64_t diagonal = row[0];  // distance(a[..i-1], b[..j-1])
    row[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int64_t above = row[j];
      row[j] = std::min({row[j] + 1,                                   // delete a[i-1]
                         row[j - 1] + 1,                               // insert b[j-1]
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});  // keep or substitute
      diagonal = above;
    }
  }
  return row.back();
}

}  // namespace s2s
