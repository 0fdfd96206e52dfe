// Weight smoothing (--ema-epochs): its numbers against the formula in plain ATen, and the guard
// that lends the smoothed weights to validation and checkpoints.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "s2s/error.h"
#include "train/weight_smoothing.h"

namespace {

// Two weights, one over the update's parallel grain (32768 elements) and one small, so that a
// step's chunks straddle the boundary between them.
std::vector<at::Tensor> weights() {
  torch::manual_seed(11);
  return {torch::randn({300, 200}), torch::randn({7})};
}

TEST(WeightSmoothing, RateIsTheMeanFirstThenTheFactor) {
  s2s::WeightSmoothing smoothing(weights(), 0.25);
  EXPECT_DOUBLE_EQ(smoothing.rate(1), 1.0 / 2);
  EXPECT_DOUBLE_EQ(smoothing.rate(2), 1.0 / 3);
  EXPECT_DOUBLE_EQ(smoothing.rate(3), 0.25);
  EXPECT_DOUBLE_EQ(smoothing.rate(100), 0.25);
  EXPECT_THROW(s2s::WeightSmoothing(weights(), 0), s2s::Error);
  EXPECT_THROW(s2s::WeightSmoothing(weights(), 1.5), s2s::Error);
}

// Steps 1-2 average all the weights so far (rates 1/2, 1/3), later steps move by the factor;
// each against s + r (w - s) in double.
TEST(WeightSmoothing, UpdatesFollowTheFormula) {
  const int threads = at::get_num_threads();
  for (const int n : {1, 2}) {
    at::set_num_threads(n);
    std::vector<at::Tensor> params = weights();
    s2s::WeightSmoothing smoothing(params, 0.25);
    std::vector<at::Tensor> expected, seen;
    for (const auto& p : params) {
      expected.push_back(p.to(at::kDouble));
      seen.push_back(p.to(at::kDouble));
    }
    for (int64_t step = 1; step <= 6; ++step) {
      for (size_t k = 0; k < params.size(); ++k) {
        params[k].copy_(torch::randn_like(params[k]));  // what an optimizer step would leave
        seen[k] += params[k].to(at::kDouble);
        expected[k] += smoothing.rate(step) * (params[k].to(at::kDouble) - expected[k]);
      }
      smoothing.update(step);
      for (size_t k = 0; k < params.size(); ++k) {
        EXPECT_TRUE(
            torch::allclose(smoothing.smoothed()[k].to(at::kDouble), expected[k], 1e-6, 1e-6))
            << "step " << step << ", weight " << k << ", " << n << " threads";
        if (step <= 2) {  // the plain mean of the initial and the `step` later weights
          EXPECT_TRUE(torch::allclose(smoothing.smoothed()[k].to(at::kDouble),
                                      seen[k] / static_cast<double>(step + 1), 1e-6, 1e-6));
        }
      }
    }
  }
  at::set_num_threads(threads);
}

TEST(WeightSmoothing, TheGuardLendsTheSmoothedWeightsAndGivesTheTrainedOnesBack) {
  std::vector<at::Tensor> params = weights();
  s2s::WeightSmoothing smoothing(params, 0.5);
  std::vector<at::Tensor> trained;
  for (auto& p : params) {
    p.add_(1.0);
    trained.push_back(p.clone());
  }
  smoothing.update(5);  // halfway: smoothed = trained - 0.5
  const auto version = params[0]._version();
  {
    const s2s::SmoothedWeights outer(&smoothing);
    EXPECT_TRUE(smoothing.swapped());
    // The kernels' weight caches are keyed by version: a lent weight must look changed.
    EXPECT_GT(params[0]._version(), version);
    for (size_t k = 0; k < params.size(); ++k) {
      EXPECT_TRUE(torch::allclose(params[k], trained[k] - 0.5, 1e-6, 1e-6)) << k;
      EXPECT_TRUE(torch::equal(smoothing.trained()[k], trained[k])) << k;
    }
    {
      const s2s::SmoothedWeights inner(&smoothing);  // nested: nothing more
      EXPECT_TRUE(torch::allclose(params[0], trained[0] - 0.5, 1e-6, 1e-6));
    }
    EXPECT_TRUE(smoothing.swapped());
    EXPECT_THROW(smoothing.update(6), s2s::Error);
    EXPECT_THROW(smoothing.smoothed(), s2s::Error);
  }
  EXPECT_FALSE(smoothing.swapped());
  for (size_t k = 0; k < params.size(); ++k) EXPECT_TRUE(torch::equal(params[k], trained[k])) << k;
  EXPECT_THROW(smoothing.trained(), s2s::Error);
  const s2s::SmoothedWeights none(nullptr);  // no smoothing: a no-op
}

}  // namespace
