// Gradients in float16 (--grad-compression fp16): the one-pass conversions give exactly what
// ATen's own ops give (scale in f32, clamp to float16's range, round to nearest even), at every
// length (the vector loop's tail), and the float16 values tests and users can check by hand.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "s2s/error.h"
#include "train/gradient_compression.h"

namespace s2s {
namespace {

at::Tensor compressed(const at::Tensor& src, float scale) {
  at::Tensor dst = at::empty({src.numel()}, at::kHalf);
  compress_fp16(src, dst, scale);
  return dst;
}

at::Tensor widened(const at::Tensor& src) {
  at::Tensor dst = at::empty({src.numel()}, at::kFloat);
  decompress_fp16(src, dst);
  return dst;
}

TEST(GradientCompression, RoundsToNearestEvenAndSaturatesAtFloat16sRange) {
  const float inf = std::numeric_limits<float>::infinity();
  // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10 (float16's next value): ties go to the even
  // 1; 1 + 3 * 2^-11 lies halfway between 1 + 2^-10 and 1 + 2^-9: to 1 + 2^-9. 2^-25 is half the
  // smallest subnormal (to 0), 3 * 2^-25 rounds to 2^-23 (two of them); 70000 and infinity
  // saturate at 65504.
  const std::vector<float> in{1.0F + 0x1p-11F,
                              1.0F + 3 * 0x1p-11F,
                              0x1p-25F,
                              3 * 0x1p-25F,
                              -0.1F,
                              70000.0F,
                              -inf,
                              inf,
                              65504.0F,
                              1e-3F};
  const std::vector<float> out{
      1.0F,     1.0F + 0x1p-9F, 0.0F,     0x1p-23F, -0.0999755859375F,
      65504.0F, -65504.0F,      65504.0F, 65504.0F, 0.0010004043579101562F};
  const at::Tensor result = widened(compressed(at::tensor(in), 1.0F));
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(result[static_cast<int64_t>(i)].item<float>(), out[i]) << "input " << in[i];
  }
  // The scale is applied in f32 before rounding: 2 * 40000 = 80000 saturates, 0.5 * 3 is exact.
  EXPECT_EQ(
      widened(compressed(at::tensor(std::vector<float>{40000.0F, 3.0F}), 2.0F))[0].item<float>(),
      65504.0F);
  EXPECT_EQ(widened(compressed(at::tensor(std::vector<float>{3.0F}), 0.5F))[0].item<float>(), 1.5F);
  // NaN stays NaN (the trainer skips such steps; compression must not hide them).
  EXPECT_TRUE(std::isnan(
      widened(compressed(at::tensor(std::vector<float>{std::nanf("")}), 1.0F))[0].item<float>()));
}

TEST(GradientCompression, EqualsATensReferenceAtEveryLength) {
  at::manual_seed(3);
  for (int64_t n : {1, 7, 8, 9, 15, 16, 17, 1000, 4099}) {
    // Gradients of every magnitude: subnormal in float16, ordinary, and beyond its range.
    const at::Tensor src = at::randn({n}) * at::pow(10.0, at::randint(-9, 6, {n}).to(at::kFloat));
    for (float scale : {1.0F, 0.5F, 1.0F / 3.0F}) {
      const at::Tensor mine = compressed(src, scale);
      EXPECT_TRUE(at::equal(mine, compress_fp16_reference(src, scale)))
          << n << " elements, scale " << scale;
      EXPECT_TRUE(at::equal(widened(mine), mine.to(at::kFloat))) << n << " elements";
    }
  }
}

// Why the tests of compressed training allow float16's rounding: within float16's normal range
// a value moves by at most 2^-11 of itself; below it (|x| < 2^-14) by at most 2^-25.
TEST(GradientCompression, ErrorIsFloat16sRoundingAndNoMore) {
  at::manual_seed(4);
  const at::Tensor src =
      at::randn({100000}) * at::pow(10.0, at::randint(-8, 4, {100000}).to(at::kFloat));
  const at::Tensor error = (widened(compressed(src, 1.0F)) - src).abs();
  const at::Tensor bound = at::maximum(src.abs() * 0x1p-11, at::full_like(src, 0x1p-25));
  EXPECT_TRUE(at::all(error <= bound).item<bool>());
  EXPECT_GT(error.max().item<float>(), 0.0F);  // it did round
}

// The ranks' float16 segments added in f32 and rounded once; for two rows that is exactly ATen's
// (and Gloo's) float16 addition.
TEST(GradientCompression, SumsRowsOfFloat16RoundingOnce) {
  at::manual_seed(5);
  for (int64_t n : {1, 7, 8, 9, 17, 1001}) {
    const at::Tensor rows = compress_fp16_reference(at::randn({3, n}) * 100, 1.0F);
    at::Tensor two = at::empty({n}, at::kHalf), three = at::empty({n}, at::kHalf);
    sum_fp16_rows(rows.slice(0, 0, 2).contiguous(), two);
    sum_fp16_rows(rows, three);
    EXPECT_TRUE(at::equal(two, rows[0] + rows[1])) << n;
    const at::Tensor f32 = rows.to(at::kFloat);
    EXPECT_TRUE(at::equal(three, compress_fp16_reference(f32[0] + f32[1] + f32[2], 1.0F))) << n;
  }
  // Sums beyond float16's range saturate as compression does.
  const at::Tensor big = compress_fp16_reference(at::full({2, 3}, 40000.0F), 1.0F);
  at::Tensor sum = at::empty({3}, at::kHalf);
  sum_fp16_rows(big, sum);
  EXPECT_TRUE(at::equal(sum.to(at::kFloat), at::full({3}, kFloat16Max)));
}

TEST(GradientCompression, WrongTensorsAreAnError) {
  const at::Tensor f32 = at::zeros({4});
  EXPECT_THROW(compress_fp16(f32, at::empty({3}, at::kHalf), 1.0F), Error);
  EXPECT_THROW(compress_fp16(f32, at::empty({4}, at::kFloat), 1.0F), Error);
  EXPECT_THROW(decompress_fp16(at::empty({8}, at::kHalf).slice(0, 0, 8, 2), f32), Error);
  EXPECT_THROW(sum_fp16_rows(at::empty({2, 4}, at::kHalf), at::empty({3}, at::kHalf)), Error);
  EXPECT_THROW(sum_fp16_rows(at::empty({2, 4}, at::kFloat), at::empty({4}, at::kHalf)), Error);
}

}  // namespace
}  // namespace s2s
