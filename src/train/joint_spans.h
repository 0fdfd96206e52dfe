// Tensors laid end to end as one range of elements, so that a loop over all of them is one
// at::parallel_for (one fork and join) instead of one per tensor. Private to src/train/.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace s2s {

// Spans (each with an element count `n`) end to end: chunks of their joint count are a loop's
// parallel work. The course model has 16 large parameters: one fork and join instead of 16.
template <class Span>
struct Joint {
  const std::vector<Span>& spans;
  std::vector<int64_t> starts{0};  // span k's first element in the joint count; then the total
  explicit Joint(const std::vector<Span>& s) : spans(s) {
    for (const Span& span : spans) starts.push_back(starts.back() + span.n);
  }
  int64_t total() const { return starts.back(); }
  // f(span, begin, end) for the part of each span inside [begin, end) of the joint count.
  template <class F>
  void each(int64_t begin, int64_t end, const F& f) const {
    auto k = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), begin) -
                                 starts.begin() - 1);
    for (; k < spans.size() && starts[k] < end; ++k) {
      f(spans[k], std::max(begin, starts[k]) - starts[k], std::min(end, starts[k + 1]) - starts[k]);
    }
  }
};

}  // namespace s2s
