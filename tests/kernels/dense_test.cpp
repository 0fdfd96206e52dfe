// kernels::linear and kernels::bmm against ATen's linear and bmm: outputs and every gradient,
// with and without bias, inputs with leading dimensions, transposed (non-contiguous) operands,
// the fallback to ATen where no gradient is recorded, and linear's bf16 products.
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

at::Tensor rounded(const at::Tensor& t) {
  return t.to(at::kBFloat16).to(at::kFloat);
}

// --precision bf16: the f32 product of the operands rounded to bf16 (to nearest, ties to even),
// forward and backward (where the output's gradient is the rounded operand); the bias gradient
// is the f32 sum of the gradient.
TEST(Dense, Bf16LinearIsTheF32ProductOfBf16RoundedOperands) {
  torch::manual_seed(6);
  const at::Tensor x0 = torch::randn({7, 5, 48}), w0 = torch::randn({70, 48});
  const at::Tensor b0 = torch::randn({70}), dy = torch::randn({7, 5, 70});
  at::Tensor x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_();
  at::Tensor b = b0.clone().requires_grad_();
  const at::Tensor y = s2s::kernels::linear(x, w, b, s2s::Precision::BF16);
  ASSERT_EQ(y.scalar_type(), at::kFloat);
  expect_close(y, at::linear(rounded(x0), rounded(w0), b0), "y");
  // The rounding is there: f32's product is further off than the tolerance.
  EXPECT_FALSE(torch::allclose(y, at::linear(x0, w0, b0), 1e-4, 1e-4));
  (y * dy).sum().backward();
  expect_close(x.grad(), at::matmul(rounded(dy), rounded(w0)), "dx");
  expect_close(w.grad(),
               at::matmul(rounded(dy).reshape({-1, 70}).t(), rounded(x0).reshape({-1, 48})), "dW");
  expect_close(b.grad(), dy.reshape({-1, 70}).sum(0), "db");
  EXPECT_EQ(x.grad().scalar_type(), at::kFloat);
  EXPECT_EQ(w.grad().scalar_type(), at::kFloat);
}

// A layer with fewer than 64 outputs (an output layer over a small vocabulary) stays f32 in
// bf16: converting its operands cost more than its bf16 product saved.
TEST(Dense, Bf16LinearKeepsNarrowLayersInF32) {
  torch::manual_seed(7);
  const at::Tensor x = torch::randn({9, 48}).requires_grad_(), w = torch::randn({63, 48});
  const at::Tensor y =
      s2s::kernels::linear(x, w.requires_grad_(), at::Tensor(), s2s::Precision::BF16);
  expect_close(y, at::linear(x.detach(), w.detach()), "y");
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
