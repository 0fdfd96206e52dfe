// gemm_rnn's gate loops (src/kernels/gates.cpp, built with -ffast-math) at saturation: with a
// learning rate far too high, pre-activations reach the hundreds or more, and the gates must then
// be exactly 0 or 1 as in ATen, never NaN (a fast reciprocal of an infinite exp is NaN).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/gates.h"

namespace {

using s2s::kernels::gru_step;
using s2s::kernels::lstm_step;
using s2s::kernels::rnn_step;

// Pre-activations across the range, far past where exp overflows in float (|x| > 88), repeated
// to 65 values so that the vectorised body of every loop runs as well as its remainder.
std::vector<float> extremes() {
  const std::vector<float> one = {-1e30f, -1e4f, -200.0f, -89.0f, -88.0f, -20.0f, 0.0f,
                                  20.0f,  88.0f, 89.0f,   200.0f, 1e4f,   1e30f};
  std::vector<float> all;
  for (int k = 0; k < 5; ++k) all.insert(all.end(), one.begin(), one.end());
  return all;
}
const std::vector<float> kExtremes = extremes();

float reference_sigmoid(float x) {
  return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x))));
}

TEST(Gates, GruSaturatesToZeroOrOneWithoutNaN) {
  const int64_t hidden = static_cast<int64_t>(kExtremes.size());
  std::vector<float> xp(3 * hidden, 0.0f), gh(3 * hidden, 0.0f), h_prev(hidden, 0.5f);
  for (int64_t j = 0; j < hidden; ++j) {
    xp[j] = kExtremes[j];               // r
    xp[hidden + j] = kExtremes[j];      // z
    xp[2 * hidden + j] = kExtremes[j];  // n's input part
  }
  std::vector<float> gates(3 * hidden), ghn(hidden), h(hidden);
  gru_step(1, hidden, xp.data(), gh.data(), h_prev.data(), gates.data(), ghn.data(), h.data());
  for (int64_t j = 0; j < hidden; ++j) {
    const float x = kExtremes[j];
    EXPECT_NEAR(gates[j], reference_sigmoid(x), 1e-6f) << "r at " << x;
    EXPECT_NEAR(gates[hidden + j], reference_sigmoid(x), 1e-6f) << "z at " << x;
    const float n = std::tanh(x), z = reference_sigmoid(x);
    EXPECT_NEAR(h[j], (1 - z) * n + z * 0.5f, 1e-5f) << "h at " << x;
  }
}

TEST(Gates, LstmAndRnnSaturateWithoutNaN) {
  const int64_t hidden = static_cast<int64_t>(kExtremes.size());
  std::vector<float> xp(4 * hidden), gh(4 * hidden, 0.0f), c_prev(hidden, 0.25f);
  for (int64_t g = 0; g < 4; ++g) {
    for (int64_t j = 0; j < hidden; ++j) xp[g * hidden + j] = kExtremes[j];
  }
  std::vector<float> gates(4 * hidden), c(hidden), h(hidden);
  lstm_step(1, hidden, xp.data(), gh.data(), c_prev.data(), gates.data(), c.data(), h.data());
  for (int64_t j = 0; j < hidden; ++j) {
    const float x = kExtremes[j], s = reference_sigmoid(x), g = std::tanh(x);
    const float cell = s * 0.25f + s * g;
    EXPECT_NEAR(c[j], cell, 1e-5f) << "c at " << x;
    EXPECT_NEAR(h[j], s * std::tanh(cell), 1e-5f) << "h at " << x;
  }
  std::vector<float> out(hidden), zeros(hidden, 0.0f);
  rnn_step(hidden, kExtremes.data(), zeros.data(), out.data());
  for (int64_t j = 0; j < hidden; ++j) {
    EXPECT_NEAR(out[j], std::tanh(kExtremes[j]), 1e-6f) << "rnn h at " << kExtremes[j];
  }
}

}  // namespace
