// Shared by the kernel tests: random RNN parameters laid out as PyTorch's, the error measure and
// the gradient check built on it.
#pragma once

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/onednn_rnn.h"
#include "s2s/cell.h"

namespace s2s::kernels::test_util {

// Sets torch's (and so OpenMP's) thread count for one test and restores it after.
class ThreadCount {
 public:
  explicit ThreadCount(int threads) : before_(at::get_num_threads()) {
    at::set_num_threads(threads);
  }
  ~ThreadCount() { at::set_num_threads(before_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int before_;
};

// max|a - b| / max|b|: relative in the max norm, so near-zero entries do not dominate.
inline double rel_error(const at::Tensor& a, const at::Tensor& b) {
  const double scale = std::max(b.abs().max().item<double>(), 1e-12);
  return (a - b).abs().max().item<double>() / scale;
}

// w_ih, w_hh, b_ih, b_hh per layer, uniform in +-1/sqrt(hidden) as torch::nn initializes them.
inline std::vector<at::Tensor> random_rnn_params(Cell cell, int64_t layers, int64_t input,
                                                 int64_t hidden, bool requires_grad) {
  const int64_t g = gate_count(cell);
  const double k = 1.0 / std::sqrt(static_cast<double>(hidden));
  std::vector<at::Tensor> params;
  for (int64_t l = 0; l < layers; ++l) {
    const int64_t in = l == 0 ? input : hidden;
    for (auto sizes :
         {std::vector<int64_t>{g * hidden, in}, {g * hidden, hidden}, {g * hidden}, {g * hidden}})
      params.push_back((at::rand(sizes) * 2 - 1).mul_(k).requires_grad_(requires_grad));
  }
  return params;
}

// Random x, h0 and (LSTM) c0 that require gradients, drawn in that order, and `all`: x, h0, c0,
// then the parameters, the list to differentiate with respect to.
struct RnnInputs {
  at::Tensor x, h0, c0;
  std::vector<at::Tensor> all;
};

inline RnnInputs random_rnn_inputs(Cell cell, int64_t layers, int64_t steps, int64_t batch,
                                   int64_t input, int64_t hidden,
                                   const std::vector<at::Tensor>& params) {
  RnnInputs in;
  in.x = at::randn({steps, batch, input}).requires_grad_();
  in.h0 = at::randn({layers, batch, hidden}).requires_grad_();
  if (cell == Cell::LSTM) in.c0 = at::randn({layers, batch, hidden}).requires_grad_();
  in.all = {in.x, in.h0};
  if (in.c0.defined()) in.all.push_back(in.c0);
  in.all.insert(in.all.end(), params.begin(), params.end());
  return in;
}

// Names for the gradients of a list like RnnInputs::all: `input` (what the first layer reads),
// h0, c0 (LSTM), then weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, weight_ih_l1, ...
inline std::vector<std::string> gradient_labels(const std::string& input, bool lstm,
                                                int64_t layers) {
  std::vector<std::string> labels{input, "h0"};
  if (lstm) labels.push_back("c0");
  for (int64_t layer = 0; layer < layers; ++layer)
    for (const char* kind : {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"})
      labels.push_back(kind + std::to_string(layer));
  return labels;
}

// An RNN's results as one list: output, h_n and (LSTM) c_n.
inline std::vector<at::Tensor> result_list(const RnnResult& r) {
  std::vector<at::Tensor> out{r.output, r.h_n};
  if (r.c_n.defined()) out.push_back(r.c_n);
  return out;
}

// Every gradient in `got` defined and within `tolerance` (rel_error) of `want`, named by `labels`.
inline void expect_gradients_near(const std::vector<at::Tensor>& got,
                                  const std::vector<at::Tensor>& want,
                                  const std::vector<std::string>& labels, double tolerance) {
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_TRUE(got[i].defined()) << labels[i];
    EXPECT_LT(rel_error(got[i], want[i]), tolerance) << labels[i];
  }
}

}  // namespace s2s::kernels::test_util
