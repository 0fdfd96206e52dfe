#include "s2s/overfit.h"

#include <algorithm>
#include <cmath>

namespace s2s {

std::optional<int> overfitting_epoch(const std::vector<LossPoint>& points,
                                     const OverfitRule& rule) {
  if (rule.patience < 1) return std::nullopt;
  // First epoch with the lowest finite validation loss.
  auto best = points.end();
  for (auto it = points.begin(); it != points.end(); ++it)
    if (std::isfinite(it->valid_loss) &&
        (best == points.end() || it->valid_loss < best->valid_loss))
      best = it;
  if (best == points.end()) return std::nullopt;
  const auto after = static_cast<int>(points.end() - best) - 1;
  if (after < rule.patience) return std::nullopt;

  std::vector<double> tail;
  for (auto it = points.end() - rule.patience; it != points.end(); ++it)
    if (std::isfinite(it->valid_loss)) tail.push_back(it->valid_loss);
  if (tail.empty()) return std::nullopt;
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

}  // namespace s2s

namespace s2s {

bool better_epoch(const EpochScore& candidate, const EpochScore& incumbent) {
  if (candidate.valid_seq_acc != incumbent.valid_seq_acc)
    return candidate.valid_seq_acc > incumbent.valid_seq_acc;
  return candidate.valid_loss < incumbent.valid_loss;
}

}  // namespace s2s
