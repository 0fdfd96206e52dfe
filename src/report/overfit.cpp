#include "report/overfit.h"

#include <algorithm>

namespace s2s::report {

std::optional<int> overfitting_epoch(const std::vector<LossPoint>& points,
                                     const OverfitRule& rule) {
  if (points.empty() || rule.patience < 1) return std::nullopt;
  // First epoch with the lowest validation loss.
  const auto best =
      std::min_element(points.begin(), points.end(),
                       [](const auto& a, const auto& b) { return a.valid_loss < b.valid_loss; });
  const auto after = static_cast<int>(points.end() - best) - 1;
  if (after < rule.patience) return std::nullopt;

  std::vector<double> tail;
  for (auto it = points.end() - rule.patience; it != points.end(); ++it)
    tail.push_back(it->valid_loss);
  std::sort(tail.begin(), tail.end());
  const double median = tail.size() % 2 == 1
                            ? tail[tail.size() / 2]
                            : 0.5 * (tail[tail.size() / 2 - 1] + tail[tail.size() / 2]);
  const double rise = median - best->valid_loss;
  const bool rose = rise > rule.min_rise * best->valid_loss && rise > rule.min_rise_abs;
  const bool still_fitting = points.back().train_loss < best->train_loss;
  if (rose && still_fitting) return best->epoch;
  return std::nullopt;
}

}  // namespace s2s::report
