// kernels::linear and kernels::bmm against ATen's linear and bmm: outputs and every gradient,
// with and without bias, inputs with leading dimensions, transposed (non-contiguous) operands,
// and the fallback to ATen where no gradient is recorded.
#include "kernels/dense.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

void expect_close(const at::Tensor& ours, const at::Tensor& reference, const char* what) {
  ASSERT_TRUE(ours.sizes().equals(reference.sizes())) << what;
  EXPECT_TRUE(torch::allclose(ours, reference, 1e-5, 1e-5))
      << what << ": max difference " << (ours - reference).abs().max().item<double>();
}

TEST(Dense, LinearMatchesAtenWithGradients) {
  torch::manual_seed(3);
  for (const bool with_bias : {true, false}) {
    const at::Tensor x0 = torch::randn({7, 5, 24}), w0 = torch::randn({13, 24});
    const at::Tensor b0 = with_bias ? torch::randn({13}) : at::Tensor();
    const at::Tensor dy = torch::randn({7, 5, 13});
    at::Tensor x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_();
    at::Tensor b = with_bias ? b0.clone().requires_grad_() : at::Tensor();
    at::Tensor xr = x0.clone().requires_grad_(), wr = w0.clone().requires_grad_();
    at::Tensor br = with_bias ? b0.clone().requires_grad_() : at::Tensor();
    const at::Tensor y = s2s::kernels::linear(x, w, b), yr = at::linear(xr, wr, br);
    expect_close(y, yr, "y");
    (y * dy).sum().backward();
    (yr * dy).sum().backward();
    expect_close(x.grad(), xr.grad(), "dx");
    expect_close(w.grad(), wr.grad(), "dW");
    if (with_bias) expect_close(b.grad(), br.grad(), "db");
  }
}

TEST(Dense, BmmMatchesAtenWithGradientsAlsoForTransposedOperands) {
  torch::manual_seed(4);
  const at::Tensor a0 = torch::randn({6, 9, 17}), k0 = torch::randn({6, 11, 17});
  const at::Tensor dc = torch::randn({6, 9, 11});
  at::Tensor a = a0.clone().requires_grad_(), k = k0.clone().requires_grad_();
  at::Tensor ar = a0.clone().requires_grad_(), kr = k0.clone().requires_grad_();
  // b = k^T per batch entry, a strided view, as attention's scores read the keys.
  const at::Tensor c = s2s::kernels::bmm(a, k.transpose(1, 2));
  const at::Tensor cr = at::bmm(ar, kr.transpose(1, 2));
  expect_close(c, cr, "c");
  (c * dc).sum().backward();
  (cr * dc).sum().backward();
  expect_close(a.grad(), ar.grad(), "da");
  expect_close(k.grad(), kr.grad(), "dk");
}

// Without gradients (inference) the ops are ATen's own: bit-identical results.
TEST(Dense, WithoutGradientsTheOpsAreAtens) {
  torch::manual_seed(5);
  const at::Tensor x = torch::randn({4, 8}), w = torch::randn({3, 8}), b = torch::randn({3});
  const at::Tensor a = torch::randn({2, 4, 8}), m = torch::randn({2, 8, 3});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(s2s::kernels::linear(x, w, b), at::linear(x, w, b)));
  EXPECT_TRUE(torch::equal(s2s::kernels::bmm(a, m), at::bmm(a, m)));
}

}  // namespace
