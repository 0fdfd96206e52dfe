// Gradients in float16 on their way to the all-reduce (--grad-compression fp16), as
// DistributedDataParallel's fp16_compress_hook sends them: each rank scales its gradients by
// 1 / ranks and rounds them to float16, the ranks sum the float16 values, and every rank widens
// the sum back to f32. Both conversions are one pass over the gradients (F16C instructions when
// the CPU has them, ATen otherwise, with the same results), so compressing costs about what the
// copy into an f32 bucket does.
#pragma once

#include <ATen/core/Tensor.h>

namespace s2s {

// float16's largest finite value: compressed gradients saturate here instead of becoming
// infinite (which clipping would turn into NaN weights).
inline constexpr float kFloat16Max = 65504.0F;

// dst (float16) = src (f32) * scale, rounded to nearest (ties to even), clamped to
// [-kFloat16Max, kFloat16Max]; NaN stays NaN. Both contiguous, with as many elements.
void compress_fp16(const at::Tensor& src, const at::Tensor& dst, float scale);
// dst (f32) = src (float16). Both contiguous, with as many elements.
void decompress_fp16(const at::Tensor& src, const at::Tensor& dst);

// dst (float16, n elements) = the sum of the rows of src (float16, [rows, n]), added in f32 in
// row order, rounded once to float16 and saturated as compress_fp16 saturates (for two rows
// what a float16 addition gives, but for the saturation).
void sum_fp16_rows(const at::Tensor& src, const at::Tensor& dst);

// The reference compress_fp16 follows, in plain ATen (what the tests compare it with).
at::Tensor compress_fp16_reference(const at::Tensor& src, float scale);

}  // namespace s2s
