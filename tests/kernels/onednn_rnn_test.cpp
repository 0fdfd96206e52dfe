// Our RNN kernels, oneDNN's primitives (onednn_rnn) and our GEMM-composed layers (gemm_rnn),
// against stock ATen (at::gru / at::lstm / at::rnn_tanh): forward outputs and every gradient,
// within 1e-4 relative (max-norm), for many shapes, modes and dropout.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include <tuple>

#include "kernels/gemm_rnn.h"
#include "kernels/onednn_rnn.h"
#include "kernels/rnn_test_util.h"
#include "s2s/rnn.h"

namespace s2s::kernels {
namespace {

using test_util::expect_gradients_near;
using test_util::gradient_labels;
using test_util::random_rnn_inputs;
using test_util::random_rnn_params;
using test_util::rel_error;
using test_util::ThreadCount;

struct Case {
  Cell cell;
  int64_t layers, steps, batch, input, hidden;
  double dropout;
  bool train;
  RnnImpl impl = RnnImpl::OneDNN;  // OneDNN: onednn_rnn; Gemm: gemm_rnn
  int threads = 1;                 // gemm_rnn runs its layers side by side on 2 (its wavefront)
};

std::string name(const Case& c) {
  return (c.impl == RnnImpl::OneDNN ? "" : to_string(c.impl) + "_") + to_string(c.cell) + "_L" +
         std::to_string(c.layers) + "_T" + std::to_string(c.steps) + "_B" +
         std::to_string(c.batch) + "_I" + std::to_string(c.input) + "_H" +
         std::to_string(c.hidden) + (c.train ? "_train" : "_eval") +
         (c.dropout > 0 ? "_dropout" : "") + (c.threads > 1 ? "_2threads" : "");
}

// gtest prints parameters in test listings; without this it dumps the struct's raw bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << name(c);
}

struct Outputs {
  std::vector<at::Tensor> values;  // output, h_n, c_n (LSTM)
};

// Stock ATen. With dropout in training, at::gru would draw its own masks; the reference is then
// run_rnn's torch path (stock at::gru etc. a layer at a time, kernels::dropout between layers),
// which draws the same masks as ours from the same seed: a fixed mask for both.
Outputs reference(const Case& c, const at::Tensor& x, const at::Tensor& h0, const at::Tensor& c0,
                  const std::vector<at::Tensor>& params) {
  if (c.dropout > 0 && c.train) {
    auto [y, h, cn] = run_rnn(RnnImpl::Torch, Precision::F32, c.cell, x, h0, c0, params, c.layers,
                              c.dropout, c.train);
    if (c.cell == Cell::LSTM) return {{y, h, cn}};
    return {{y, h}};
  }
  switch (c.cell) {
    case Cell::GRU: {
      auto [y, h] = at::gru(x, h0, params, true, c.layers, c.dropout, c.train, false, false);
      return {{y, h}};
    }
    case Cell::LSTM: {
      auto [y, h, cn] =
          at::lstm(x, {h0, c0}, params, true, c.layers, c.dropout, c.train, false, false);
      return {{y, h, cn}};
    }
    case Cell::RNN: {
      auto [y, h] = at::rnn_tanh(x, h0, params, true, c.layers, c.dropout, c.train, false, false);
      return {{y, h}};
    }
  }
  return {};
}

Outputs ours(const Case& c, const at::Tensor& x, const at::Tensor& h0, const at::Tensor& c0,
             const std::vector<at::Tensor>& params) {
  RnnResult r = c.impl == RnnImpl::Gemm
                    ? gemm_rnn(c.cell, x, h0, c0, params, c.layers, c.dropout, c.train)
                    : onednn_rnn(c.cell, x, h0, c0, params, c.layers, c.dropout, c.train);
  if (c.cell == Cell::LSTM) return {{r.output, r.h_n, r.c_n}};
  return {{r.output, r.h_n}};
}

class OnednnRnnTest : public ::testing::TestWithParam<Case> {};

TEST_P(OnednnRnnTest, ForwardAndAllGradientsMatchATen) {
  const Case c = GetParam();
  const ThreadCount threads(c.threads);
  at::manual_seed(42);
  const std::vector<at::Tensor> params =
      random_rnn_params(c.cell, c.layers, c.input, c.hidden, /*requires_grad=*/true);
  const auto [x, h0, c0, inputs] =
      random_rnn_inputs(c.cell, c.layers, c.steps, c.batch, c.input, c.hidden, params);

  // Same seed before each run: both draw the same dropout masks.
  at::manual_seed(7);
  const Outputs want = reference(c, x, h0, c0, params);
  at::manual_seed(7);
  const Outputs got = ours(c, x, h0, c0, params);

  ASSERT_EQ(got.values.size(), want.values.size());
  // Weighted sums of every output make every gradient path non-trivial.
  at::Tensor loss_want = at::zeros({}), loss_got = at::zeros({});
  for (size_t i = 0; i < want.values.size(); ++i) {
    ASSERT_TRUE(got.values[i].sizes().equals(want.values[i].sizes())) << "output " << i;
    EXPECT_LT(rel_error(got.values[i], want.values[i]), 1e-4) << "output " << i;
    const at::Tensor w = at::randn(want.values[i].sizes());
    loss_want = loss_want + (want.values[i] * w).sum();
    loss_got = loss_got + (got.values[i] * w).sum();
  }
  const auto grads_want = torch::autograd::grad({loss_want}, inputs);
  const auto grads_got = torch::autograd::grad({loss_got}, inputs);
  expect_gradients_near(grads_got, grads_want, gradient_labels("input", c0.defined(), c.layers),
                        1e-4);
}

TEST_P(OnednnRnnTest, NoGradForwardMatchesATen) {
  const Case c = GetParam();
  const ThreadCount threads(c.threads);
  at::manual_seed(3);
  const int64_t g = gate_count(c.cell);
  std::vector<at::Tensor> params;
  for (int64_t l = 0; l < c.layers; ++l) {
    const int64_t in = l == 0 ? c.input : c.hidden;
    params.push_back(at::randn({g * c.hidden, in}) * 0.2);
    params.push_back(at::randn({g * c.hidden, c.hidden}) * 0.2);
    params.push_back(at::randn({g * c.hidden}) * 0.2);
    params.push_back(at::randn({g * c.hidden}) * 0.2);
  }
  const at::Tensor x = at::randn({c.steps, c.batch, c.input});
  const at::Tensor h0 = at::randn({c.layers, c.batch, c.hidden});
  const at::Tensor c0 = c.cell == Cell::LSTM ? at::randn_like(h0) : at::Tensor();
  at::NoGradGuard no_grad;
  at::manual_seed(11);  // the same dropout masks for both when c.train
  const Outputs want = reference(c, x, h0, c0, params);
  // Twice: the second call takes the converted weights from the cache (onednn).
  for (int round = 0; round < 2; ++round) {
    at::manual_seed(11);
    const Outputs got = ours(c, x, h0, c0, params);
    for (size_t i = 0; i < want.values.size(); ++i)
      EXPECT_LT(rel_error(got.values[i], want.values[i]), 1e-4) << "output " << i;
  }
  // An in-place update (as an optimizer step does) must invalidate the cached conversion.
  params[1].mul_(0.5);
  params[2].add_(0.1);
  at::manual_seed(12);
  const Outputs want2 = reference(c, x, h0, c0, params);
  at::manual_seed(12);
  const Outputs got2 = ours(c, x, h0, c0, params);
  for (size_t i = 0; i < want2.values.size(); ++i)
    EXPECT_LT(rel_error(got2.values[i], want2.values[i]), 1e-4) << "after update, output " << i;
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (Cell cell : {Cell::GRU, Cell::LSTM, Cell::RNN}) {
    out.push_back({cell, 1, 1, 1, 5, 7, 0.0, true});     // length 1, batch 1, odd sizes
    out.push_back({cell, 2, 4, 3, 6, 9, 0.0, false});    // eval, input != hidden
    out.push_back({cell, 3, 5, 2, 11, 8, 0.5, true});    // dropout between layers
    out.push_back({cell, 4, 3, 5, 16, 16, 0.8, false});  // dropout ignored in eval
    out.push_back({cell, 4, 6, 4, 12, 32, 0.3, true});
  }
  out.push_back({Cell::GRU, 2, 10, 64, 64, 64, 0.0, true});  // course-like batch
  // The course's own stack (4x256, batch 64, length 10): products big enough that oneDNN splits
  // them across threads, where gemm_rnn's wavefront must give each its own primitive.
  out.push_back({Cell::GRU, 4, 10, 64, 256, 256, 0.8, true});
  const size_t onednn = out.size();
  for (int threads : {1, 2}) {
    for (size_t i = 0; i < onednn; ++i) {
      out.push_back(out[i]);
      out.back().impl = RnnImpl::Gemm;
      out.back().threads = threads;
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Shapes, OnednnRnnTest, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return name(info.param); });

TEST(OnednnRnnArguments, RejectsParameterCountWithAClearMessage) {
  const at::Tensor x = at::zeros({2, 1, 3}), h0 = at::zeros({1, 1, 4});
  std::vector<at::Tensor> params{at::zeros({12, 3}), at::zeros({12, 4})};
  try {
    onednn_rnn(Cell::GRU, x, h0, at::Tensor(), params, 1, 0.0, false);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(),
                 "onednn_rnn: expected 4 parameters per layer (w_ih, w_hh, b_ih, b_hh), got 2 "
                 "for 1 layers");
  }
}

TEST(GemmRnnArguments, RejectsParameterCountWithAClearMessage) {
  const at::Tensor x = at::zeros({2, 1, 3}), h0 = at::zeros({1, 1, 4});
  std::vector<at::Tensor> params{at::zeros({12, 3}), at::zeros({12, 4})};
  try {
    gemm_rnn(Cell::GRU, x, h0, at::Tensor(), params, 1, 0.0, false);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_STREQ(e.what(),
                 "gemm_rnn: expected 4 parameters per layer (w_ih, w_hh, b_ih, b_hh), got 2 "
                 "for 1 layers");
  }
}

}  // namespace
}  // namespace s2s::kernels
