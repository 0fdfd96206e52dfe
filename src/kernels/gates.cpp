// Compiled with -ffast-math (this file only, src/kernels/CMakeLists.txt): that is what lets gcc
// call glibc's vector expf/tanhf (libmvec, at most 4 ulp) inside the `omp simd` loops. No loop
// here reduces across its vector lanes (the bias gradients sum down the rows, one column per
// lane, in row order), so reassociation changes nothing; inputs are finite activations.
// target_clones builds each function for AVX-512 (x86-64-v4), AVX2 and the baseline, and the
// loader picks one by the CPU's features. (It was "arch=skylake-avx512" once: a CPU model, which
// the loader matches by name, so AMD's Zen 5 with all of AVX-512 ran the AVX2 clone.)
#include "kernels/gates.h"

#include <cmath>
#include <cstring>

namespace s2s::kernels {

// Every helper the gate loops call must be inlined into them, or the loops stay scalar. gcc
// inlines a function into a target_clones clone for another arch (the AVX-512 clone) only
// when the function is always_inline: a plain `inline` sigmoid, or std::min, stayed a scalar
// call there, and the AVX-512 clones ran their loops one element at a time.
#define S2S_INLINE __attribute__((always_inline)) inline

namespace {

// x is clamped to +-80 first: exp(80) is still finite, and under -ffast-math the division may
// become a reciprocal estimate refined by a Newton step, which turns 1 / inf into NaN (that
// happened: training with a learning rate far too high went NaN with gemm alone). At +-80 the
// sigmoid is already 0 or 1 to float precision.
S2S_INLINE float sigmoid(float x) {
  x = x < -80.0f ? -80.0f : x > 80.0f ? 80.0f : x;
  return 1.0f / (1.0f + std::exp(-x));
}

}  // namespace

#define S2S_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))

S2S_CLONES void lstm_step(int64_t batch, int64_t hidden, const float* xp, const float* gh,
                          const float* c_prev, float* gates, float* c, float* h) {
  const int64_t g4 = 4 * hidden;
  for (int64_t b = 0; b < batch; ++b) {
    const float* x = xp + b * g4;
    const float* r = gh + b * g4;
    float* a = gates + b * g4;
    const float* cp = c_prev + b * hidden;
    float* cb = c + b * hidden;
    float* hb = h + b * hidden;
#pragma omp simd
    for (int64_t j = 0; j < hidden; ++j) {
      const float i = sigmoid(x[j] + r[j]);
      const float f = sigmoid(x[hidden + j] + r[hidden + j]);
      const float g = std::tanh(x[2 * hidden + j] + r[2 * hidden + j]);
      const float o = sigmoid(x[3 * hidden + j] + r[3 * hidden + j]);
      const float cell = f * cp[j] + i * g;
      a[j] = i;
      a[hidden + j] = f;
      a[2 * hidden + j] = g;
      a[3 * hidden + j] = o;
      cb[j] = cell;
      hb[j] = o * std::tanh(cell);
    }
  }
}

S2S_CLONES void gru_step(int64_t batch, int64_t hidden, const float* xp, const float* gh,
                         const float* h_prev, float* gates, float* ghn, float* h) {
  const int64_t g3 = 3 * hidden;
  for (int64_t b = 0; b < batch; ++b) {
    const float* x = xp + b * g3;
    const float* rec = gh + b * g3;
    float* a = gates + b * g3;
    const float* hp = h_prev + b * hidden;
    float* nb = ghn + b * hidden;
    float* hb = h + b * hidden;
#pragma omp simd
    for (int64_t j = 0; j < hidden; ++j) {
      const float r = sigmoid(x[j] + rec[j]);
      const float z = sigmoid(x[hidden + j] + rec[hidden + j]);
      const float hn = rec[2 * hidden + j];
      const float n = std::tanh(x[2 * hidden + j] + r * hn);
      a[j] = r;
      a[hidden + j] = z;
      a[2 * hidden + j] = n;
      nb[j] = hn;
      hb[j] = (1.0f - z) * n + z * hp[j];
    }
  }
}

S2S_CLONES void rnn_step(int64_t count, const float* xp, const float* gh, float* h) {
#pragma omp simd
  for (int64_t k = 0; k < count; ++k) h[k] = std::tanh(xp[k] + gh[k]);
}

// The backward loops write their gate gradients in the precision the next products read (f32,
// or bf16 rounded as masked_copy does) and add them to the bias gradients on the way, one pass
// over each step's gradients instead of three (write, sum, round). Each body is written once,
// as a template inlined into both precisions' clones.
namespace {

S2S_INLINE void put(float v, float* out) {
  *out = v;
}
S2S_INLINE void put(float v, c10::BFloat16* out) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits += 0x7FFFu + ((bits >> 16) & 1u);  // round to nearest, ties to even (v is finite)
  *reinterpret_cast<uint16_t*>(out) = static_cast<uint16_t>(bits >> 16);
}

template <class T>
S2S_INLINE void lstm_backward_body(int64_t batch, int64_t hidden, const float* dy,
                                   const float* dh_next, const float* gates, const float* c,
                                   const float* c_prev, float* dc, T* dgi, float* db) {
  const int64_t g4 = 4 * hidden;
  for (int64_t b = 0; b < batch; ++b) {
    const float* a = gates + b * g4;
    T* d = dgi + b * g4;
    const int64_t o0 = b * hidden;
#pragma omp simd
    for (int64_t j = 0; j < hidden; ++j) {
      const int64_t k = o0 + j;
      const float i = a[j], f = a[hidden + j], g = a[2 * hidden + j], o = a[3 * hidden + j];
      const float dh = dy[k] + dh_next[k];
      const float tc = std::tanh(c[k]);
      const float dcell = dc[k] + dh * o * (1.0f - tc * tc);
      const float di = dcell * g * i * (1.0f - i), df = dcell * c_prev[k] * f * (1.0f - f);
      const float dg = dcell * i * (1.0f - g * g), dout = dh * tc * o * (1.0f - o);
      put(di, d + j);
      put(df, d + hidden + j);
      put(dg, d + 2 * hidden + j);
      put(dout, d + 3 * hidden + j);
      db[j] += di;
      db[hidden + j] += df;
      db[2 * hidden + j] += dg;
      db[3 * hidden + j] += dout;
      dc[k] = dcell * f;
    }
  }
}

template <class T>
S2S_INLINE void gru_backward_body(int64_t batch, int64_t hidden, const float* dy,
                                  const float* dh_next, const float* gates, const float* ghn,
                                  const float* h_prev, T* dgi, T* dgh, float* direct, float* db_ih,
                                  float* db_hh) {
  const int64_t g3 = 3 * hidden;
  for (int64_t b = 0; b < batch; ++b) {
    const float* a = gates + b * g3;
    T* di = dgi + b * g3;
    T* dr = dgh + b * g3;
    const int64_t o0 = b * hidden;
#pragma omp simd
    for (int64_t j = 0; j < hidden; ++j) {
      const int64_t k = o0 + j;
      const float r = a[j], z = a[hidden + j], n = a[2 * hidden + j];
      const float dh = dy[k] + dh_next[k];
      const float dn = dh * (1.0f - z) * (1.0f - n * n);
      const float dz = dh * (h_prev[k] - n) * z * (1.0f - z);
      const float drr = dn * ghn[k] * r * (1.0f - r);
      put(drr, di + j);
      put(dz, di + hidden + j);
      put(dn, di + 2 * hidden + j);
      put(drr, dr + j);
      put(dz, dr + hidden + j);
      put(dn * r, dr + 2 * hidden + j);
      db_ih[j] += drr;
      db_ih[hidden + j] += dz;
      db_ih[2 * hidden + j] += dn;
      db_hh[j] += drr;
      db_hh[hidden + j] += dz;
      db_hh[2 * hidden + j] += dn * r;
      direct[k] = dh * z;
    }
  }
}

template <class T>
S2S_INLINE void rnn_backward_body(int64_t batch, int64_t hidden, const float* dy,
                                  const float* dh_next, const float* h, T* dgi, float* db) {
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t o0 = b * hidden;
#pragma omp simd
    for (int64_t j = 0; j < hidden; ++j) {
      const int64_t k = o0 + j;
      const float d = (dy[k] + dh_next[k]) * (1.0f - h[k] * h[k]);
      put(d, dgi + k);
      db[j] += d;
    }
  }
}

}  // namespace

#define S2S_BACKWARD(T)                                                                         \
  S2S_CLONES void lstm_step_backward(int64_t batch, int64_t hidden, const float* dy,            \
                                     const float* dh_next, const float* gates, const float* c,  \
                                     const float* c_prev, float* dc, T* dgi, float* db) {       \
    lstm_backward_body(batch, hidden, dy, dh_next, gates, c, c_prev, dc, dgi, db);              \
  }                                                                                             \
  S2S_CLONES void gru_step_backward(int64_t batch, int64_t hidden, const float* dy,             \
                                    const float* dh_next, const float* gates, const float* ghn, \
                                    const float* h_prev, T* dgi, T* dgh, float* direct,         \
                                    float* db_ih, float* db_hh) {                               \
    gru_backward_body(batch, hidden, dy, dh_next, gates, ghn, h_prev, dgi, dgh, direct, db_ih,  \
                      db_hh);                                                                   \
  }                                                                                             \
  S2S_CLONES void rnn_step_backward(int64_t batch, int64_t hidden, const float* dy,             \
                                    const float* dh_next, const float* h, T* dgi, float* db) {  \
    rnn_backward_body(batch, hidden, dy, dh_next, h, dgi, db);                                  \
  }
S2S_BACKWARD(float)
S2S_BACKWARD(c10::BFloat16)
#undef S2S_BACKWARD

S2S_CLONES void masked_copy(int64_t count, const float* src, const float* mask, float* dst) {
  if (mask == nullptr) {
    if (dst != src) std::memcpy(dst, src, count * sizeof(float));
    return;
  }
#pragma omp simd
  for (int64_t k = 0; k < count; ++k) dst[k] = src[k] * mask[k];
}

S2S_CLONES void masked_copy(int64_t count, const float* src, const float* mask,
                            c10::BFloat16* dst) {
#pragma omp simd
  for (int64_t k = 0; k < count; ++k) put(mask == nullptr ? src[k] : src[k] * mask[k], dst + k);
}

#undef S2S_CLONES

}  // namespace s2s::kernels
