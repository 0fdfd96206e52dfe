// kernels::dropout: exact values, the drop rate, independence of neighbouring draws,
// determinism under torch's seed (at any thread count), gradients, and the no-op cases.
#include "kernels/dropout.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>

#include "s2s/error.h"

namespace s2s::kernels {
namespace {

// The course's inter-layer activation: [len 10, batch 64, hidden 256].
const std::vector<int64_t> kShape{10, 64, 256};

double kept_fraction(const at::Tensor& mask) {
  return mask.ne(0).to(at::kDouble).mean().item<double>();
}

TEST(Dropout, MaskHoldsOnlyZeroAndTheInverseKeepProbability) {
  for (double p : {0.2, 0.5, 0.8}) {
    at::manual_seed(1);
    const at::Tensor mask = dropout_mask(kShape, p);
    EXPECT_EQ(mask.scalar_type(), at::kFloat);
    EXPECT_TRUE(mask.sizes().equals(kShape));
    const auto scale = static_cast<float>(1.0 / (1.0 - p));
    EXPECT_TRUE(at::logical_or(mask.eq(0), mask.eq(scale)).all().item<bool>()) << "p " << p;
  }
  // Double masks carry the scale in double precision (finite-difference checks use them).
  const at::Tensor mask = dropout_mask({1000}, 0.7, at::kDouble);
  EXPECT_EQ(mask.scalar_type(), at::kDouble);
  EXPECT_DOUBLE_EQ(mask.max().item<double>(), 1.0 / (1.0 - 0.7));
}

TEST(Dropout, DropsElementsWithProbabilityP) {
  at::manual_seed(2);
  const double n = 10 * 64 * 256;
  for (double p : {0.0, 0.2, 0.5, 0.8, 0.99}) {
    const double sigma = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(kept_fraction(dropout_mask(kShape, p)), 1 - p, 5 * sigma + 1e-12) << "p " << p;
  }
}

// Each 64-bit hash serves two neighbouring elements: they must still be independent, and so must
// elements a row apart.
TEST(Dropout, NeighbouringDrawsAreIndependent) {
  at::manual_seed(3);
  const double p = 0.5, n = 10 * 64 * 256;
  const at::Tensor kept = dropout_mask(kShape, p).ne(0).reshape({-1}).to(at::kDouble);
  const auto both_kept = [&](int64_t offset) {
    const int64_t m = kept.numel() - offset;
    return (kept.narrow(0, 0, m) * kept.narrow(0, offset, m)).mean().item<double>();
  };
  const double sigma = std::sqrt(0.25 * 0.75 / n);
  for (int64_t offset : {1, 2, 256}) {
    EXPECT_NEAR(both_kept(offset), 0.25, 5 * sigma) << "offset " << offset;
  }
}

TEST(Dropout, TorchSeedDecidesTheMaskAtAnyThreadCount) {
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  at::manual_seed(4);
  const at::Tensor first = dropout_mask(kShape, 0.3);
  const at::Tensor second = dropout_mask(kShape, 0.3);
  at::set_num_threads(2);
  at::manual_seed(4);
  const at::Tensor again = dropout_mask(kShape, 0.3);
  at::set_num_threads(threads);
  EXPECT_TRUE(at::equal(first, again));
  EXPECT_FALSE(at::equal(first, second)) << "consecutive calls must draw new masks";
  at::manual_seed(5);
  EXPECT_FALSE(at::equal(first, dropout_mask(kShape, 0.3))) << "another seed, another mask";
}

TEST(Dropout, MultipliesByTheMaskAndBackpropagatesThroughIt) {
  at::manual_seed(6);
  const at::Tensor x = at::randn({7, 3, 5}).requires_grad_(true);
  at::manual_seed(7);
  const at::Tensor y = kernels::dropout(x, 0.4, /*train=*/true);
  at::manual_seed(7);
  const at::Tensor mask = dropout_mask(x.sizes(), 0.4);
  EXPECT_TRUE(at::equal(y.detach(), x.detach() * mask));
  const at::Tensor w = at::randn(x.sizes());
  const at::Tensor grad = torch::autograd::grad({(y * w).sum()}, {x})[0];
  EXPECT_TRUE(at::allclose(grad, w * mask));
}

TEST(Dropout, IsTheIdentityInEvalModeOrWithoutDropout) {
  const at::Tensor x = at::randn({4, 5});
  EXPECT_TRUE(kernels::dropout(x, 0.5, /*train=*/false).is_same(x));
  EXPECT_TRUE(kernels::dropout(x, 0.0, /*train=*/true).is_same(x));
}

TEST(Dropout, RejectsProbabilitiesOutsideZeroToOne) {
  for (double p : {-0.1, 1.0, 1.5, std::nan("")}) {
    try {
      dropout_mask({3}, p);
      ADD_FAILURE() << "no error for p " << p;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("dropout must be in [0, 1)"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace s2s::kernels
