#include "train/gradient_compression.h"

#include <ATen/ATen.h>
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "s2s/error.h"

namespace s2s {
namespace {

bool has_f16c() {
  static const bool yes = __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
  return yes;
}

// 8 floats -> 8 halves: scale, clamp (max/min take their second operand when one is NaN, so a
// NaN passes through), round to nearest even.
__attribute__((target("avx,f16c"))) inline __m128i to_half8(__m256 x, __m256 scale) {
  const __m256 high = _mm256_set1_ps(kFloat16Max), low = _mm256_set1_ps(-kFloat16Max);
  x = _mm256_min_ps(high, _mm256_max_ps(low, _mm256_mul_ps(x, scale)));
  return _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

__attribute__((target("avx,f16c"))) void compress_f16c(const float* src, uint16_t* dst, int64_t n,
                                                       float scale) {
  const __m256 s = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), to_half8(_mm256_loadu_ps(src + i), s));
  }
  if (i < n) {  // the last 1-7 through a zero-padded block
    float in[8] = {};
    uint16_t out[8];
    std::memcpy(in, src + i, static_cast<size_t>(n - i) * sizeof(float));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), to_half8(_mm256_loadu_ps(in), s));
    std::memcpy(dst + i, out, static_cast<size_t>(n - i) * sizeof(uint16_t));
  }
}

__attribute__((target("avx,f16c"))) void decompress_f16c(const uint16_t* src, float* dst,
                                                         int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(dst + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
  if (i < n) {
    uint16_t in[8] = {};
    float out[8];
    std::memcpy(in, src + i, static_cast<size_t>(n - i) * sizeof(uint16_t));
    _mm256_storeu_ps(out, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in))));
    std::memcpy(dst + i, out, static_cast<size_t>(n - i) * sizeof(float));
  }
}

__attribute__((target("avx,f16c"))) inline __m256 load_half8(const uint16_t* src) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)));
}

__attribute__((target("avx,f16c"))) void sum_rows_f16c(const uint16_t* src, uint16_t* dst,
                                                       int64_t rows, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0F);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 sum = load_half8(src + i);
    for (int64_t r = 1; r < rows; ++r) sum = _mm256_add_ps(sum, load_half8(src + r * n + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), to_half8(sum, one));
  }
  for (; i < n; ++i) {  // the last 1-7, one at a time
    uint16_t in[8] = {}, out[8];
    __m256 sum = _mm256_setzero_ps();
    for (int64_t r = 0; r < rows; ++r) {
      in[0] = src[r * n + i];
      sum = _mm256_add_ps(sum, load_half8(in));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), to_half8(sum, one));
    dst[i] = out[0];
  }
}

void check(const at::Tensor& f32, const at::Tensor& f16) {
  if (f32.scalar_type() != at::kFloat || f16.scalar_type() != at::kHalf || !f32.is_contiguous() ||
      !f16.is_contiguous() || f32.numel() != f16.numel()) {
    throw Error("gradient compression: expected contiguous f32 and float16 tensors of one size");
  }
}

}  // namespace

at::Tensor compress_fp16_reference(const at::Tensor& src, float scale) {
  return (src * scale).clamp(-kFloat16Max, kFloat16Max).to(at::kHalf);
}

void compress_fp16(const at::Tensor& src, const at::Tensor& dst, float scale) {
  check(src, dst);
  if (!has_f16c()) {
    dst.copy_(compress_fp16_reference(src, scale));
    return;
  }
  compress_f16c(src.data_ptr<float>(), reinterpret_cast<uint16_t*>(dst.data_ptr<at::Half>()),
                src.numel(), scale);
}

void decompress_fp16(const at::Tensor& src, const at::Tensor& dst) {
  check(dst, src);
  if (!has_f16c()) {
    dst.copy_(src);
    return;
  }
  decompress_f16c(reinterpret_cast<const uint16_t*>(src.data_ptr<at::Half>()),
                  dst.data_ptr<float>(), src.numel());
}

void sum_fp16_rows(const at::Tensor& src, const at::Tensor& dst) {
  if (src.scalar_type() != at::kHalf || dst.scalar_type() != at::kHalf || src.dim() != 2 ||
      !src.is_contiguous() || !dst.is_contiguous() || dst.numel() != src.size(1)) {
    throw Error("gradient compression: expected float16 rows [rows, n] and n float16 elements");
  }
  if (!has_f16c()) {
    at::Tensor sum = src[0].to(at::kFloat);
    for (int64_t r = 1; r < src.size(0); ++r) sum.add_(src[r].to(at::kFloat));
    dst.copy_(compress_fp16_reference(sum, 1.0F));
    return;
  }
  sum_rows_f16c(reinterpret_cast<const uint16_t*>(src.data_ptr<at::Half>()),
                reinterpret_cast<uint16_t*>(dst.data_ptr<at::Half>()), src.size(0), src.size(1));
}

}  // namespace s2s
