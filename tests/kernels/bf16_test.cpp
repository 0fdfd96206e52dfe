// The bf16 path of our own kernels (oneDNN's RNN primitives and gemm_rnn) against their f32 path:
// forward outputs and every gradient (input, h0, c0, all weights and biases), inference with its
// weight cache, and DecodeStep.
//
// Tolerance: relative max-norm error (max|a - b| / max|b|) below 3e-2. bf16 keeps 8 significant
// bits, so each rounding of an input, state or weight is off by up to 2^-9 (~2e-3) relative;
// the matmuls accumulate in f32, but the rounding errors of the K terms of a dot product add up
// (randomly: ~sqrt(K) times), and the recurrence carries them from step to step and, for
// gradients, back again. The cases here measure 1e-3 to 7e-3 on outputs and 3e-3 to 9e-3 on
// gradients (recorded as test properties: --gtest_output=xml); 3e-2 leaves room
// for other shapes while still catching a wrong gate order, a stale weight or a missing bias,
// which are errors of order 1. Each test also checks that the error is not zero, so a bf16 run
// that silently fell back to f32 fails too.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include "kernels/decode_step.h"
#include "kernels/gemm_rnn.h"
#include "kernels/onednn_rnn.h"
#include "kernels/rnn_test_util.h"
#include "s2s/error.h"
#include "s2s/rnn.h"

namespace s2s::kernels {
namespace {

using test_util::gradient_labels;
using test_util::random_rnn_inputs;
using test_util::random_rnn_params;
using test_util::rel_error;
using test_util::ThreadCount;

constexpr double kTolerance = 3e-2;
constexpr double kSurelyRounded = 1e-6;  // any bf16 run differs from f32 by more than this

struct Case {
  Cell cell;
  int64_t layers, steps, batch, input, hidden;
  double dropout;
  RnnImpl impl = RnnImpl::OneDNN;
};

std::string name(const Case& c) {
  return to_string(c.impl) + "_" + to_string(c.cell) + "_L" + std::to_string(c.layers) + "_T" +
         std::to_string(c.steps) + "_B" + std::to_string(c.batch) + "_I" + std::to_string(c.input) +
         "_H" + std::to_string(c.hidden) + (c.dropout > 0 ? "_dropout" : "");
}

// gtest prints parameters in test listings; without this it dumps the struct's raw bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << name(c);
}

std::vector<at::Tensor> make_params(const Case& c, bool requires_grad) {
  return random_rnn_params(c.cell, c.layers, c.input, c.hidden, requires_grad);
}

std::vector<at::Tensor> outputs(const Case& c, const at::Tensor& x, const at::Tensor& h0,
                                const at::Tensor& c0, const std::vector<at::Tensor>& params,
                                Precision precision) {
  at::manual_seed(7);  // the same dropout masks in both precisions
  RnnResult r = c.impl == RnnImpl::Gemm
                    ? gemm_rnn(c.cell, x, h0, c0, params, c.layers, c.dropout, true, precision)
                    : onednn_rnn(c.cell, x, h0, c0, params, c.layers, c.dropout, true, precision);
  if (c.cell == Cell::LSTM) return {r.output, r.h_n, r.c_n};
  return {r.output, r.h_n};
}

class Bf16RnnTest : public ::testing::TestWithParam<Case> {};

TEST_P(Bf16RnnTest, ForwardAndAllGradientsAreCloseToF32) {
  const Case c = GetParam();
  const ThreadCount threads(c.impl == RnnImpl::Gemm ? 2 : 1);  // gemm: its wavefront too
  at::manual_seed(42);
  const std::vector<at::Tensor> params = make_params(c, true);
  const auto [x, h0, c0, inputs] =
      random_rnn_inputs(c.cell, c.layers, c.steps, c.batch, c.input, c.hidden, params);

  const auto want = outputs(c, x, h0, c0, params, Precision::F32);
  const auto got = outputs(c, x, h0, c0, params, Precision::BF16);
  ASSERT_EQ(got.size(), want.size());
  at::Tensor loss_want = at::zeros({}), loss_got = at::zeros({});
  double largest = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_TRUE(got[i].sizes().equals(want[i].sizes())) << "output " << i;
    EXPECT_EQ(got[i].scalar_type(), at::kFloat) << "output " << i;
    const double err = rel_error(got[i], want[i]);
    EXPECT_LT(err, kTolerance) << "output " << i;
    largest = std::max(largest, err);
    const at::Tensor w = at::randn(want[i].sizes());
    loss_want = loss_want + (want[i] * w).sum();
    loss_got = loss_got + (got[i] * w).sum();
  }
  EXPECT_GT(largest, kSurelyRounded) << "bf16 outputs equal f32 ones: did bf16 run at all?";

  const auto grads_want = torch::autograd::grad({loss_want}, inputs);
  const auto grads_got = torch::autograd::grad({loss_got}, inputs);
  const std::vector<std::string> labels = gradient_labels("input", c0.defined(), c.layers);
  double largest_grad = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_TRUE(grads_got[i].defined()) << labels[i];
    EXPECT_EQ(grads_got[i].scalar_type(), at::kFloat) << labels[i];
    const double err = rel_error(grads_got[i], grads_want[i]);
    EXPECT_LT(err, kTolerance) << labels[i];
    EXPECT_GT(err, kSurelyRounded) << labels[i];
    largest_grad = std::max(largest_grad, err);
  }
  // The measured errors, for the tolerance's justification (--gtest_output=xml shows them).
  RecordProperty("output_rel_error", std::to_string(largest));
  RecordProperty("gradient_rel_error", std::to_string(largest_grad));
}

TEST_P(Bf16RnnTest, InferenceIsCloseToF32AndSeesWeightUpdates) {
  const Case c = GetParam();
  const ThreadCount threads(c.impl == RnnImpl::Gemm ? 2 : 1);  // gemm: its wavefront too
  at::manual_seed(3);
  std::vector<at::Tensor> params = make_params(c, false);
  const at::Tensor x = at::randn({c.steps, c.batch, c.input});
  const at::Tensor h0 = at::randn({c.layers, c.batch, c.hidden});
  const at::Tensor c0 = c.cell == Cell::LSTM ? at::randn_like(h0) : at::Tensor();
  at::NoGradGuard no_grad;
  const auto check = [&](const std::string& when) {
    const auto want = outputs(c, x, h0, c0, params, Precision::F32);
    const auto got = outputs(c, x, h0, c0, params, Precision::BF16);
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_LT(rel_error(got[i], want[i]), kTolerance) << when << ", output " << i;
      EXPECT_GT(rel_error(got[i], want[i]), kSurelyRounded) << when << ", output " << i;
    }
  };
  check("first call");
  check("second call (cached bf16 weights)");
  // An optimizer-like in-place update must invalidate the cached bf16 conversion; a stale one
  // would be off by the size of the update, far beyond the tolerance.
  for (auto& p : params) p.mul_(-0.7);
  check("after an in-place update");
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (Cell cell : {Cell::GRU, Cell::LSTM, Cell::RNN}) {
    out.push_back({cell, 1, 1, 1, 5, 7, 0.0});    // length 1, batch 1, odd sizes
    out.push_back({cell, 2, 6, 3, 11, 9, 0.0});   // two layers, input != hidden
    out.push_back({cell, 2, 5, 1, 16, 16, 0.0});  // batch 1, input == hidden
  }
  out.push_back({Cell::GRU, 2, 10, 17, 32, 64, 0.5});  // wider, dropout between the layers
  const size_t onednn_cases = out.size();
  for (size_t i = 0; i < onednn_cases; ++i) {
    out.push_back(out[i]);
    out.back().impl = RnnImpl::Gemm;
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Shapes, Bf16RnnTest, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return name(info.param); });

// DecodeStep in bf16 against the full-sequence bf16 kernel (the same arithmetic: bf16 states
// between steps, f32 LSTM cell state) and against f32.
TEST(Bf16DecodeStep, StepsMatchTheSequenceKernel) {
  for (Cell cell : {Cell::GRU, Cell::LSTM, Cell::RNN}) {
    for (int64_t input : {int64_t{12}, int64_t{24}}) {  // 12: layer 0 runs alone
      const Case c{cell, 3, 6, 5, input, 24, 0.0};
      at::manual_seed(5);
      const std::vector<at::Tensor> params = make_params(c, false);
      const at::Tensor x = at::randn({c.steps, c.batch, c.input});
      const at::Tensor h0 = at::randn({c.layers, c.batch, c.hidden});
      const at::Tensor c0 = cell == Cell::LSTM ? at::randn_like(h0) : at::Tensor();
      at::NoGradGuard no_grad;
      const auto seq = outputs(c, x, h0, c0, params, Precision::BF16);
      const auto f32 = outputs(c, x, h0, c0, params, Precision::F32);
      DecodeStep step(cell, params, c.layers, c.batch, Precision::BF16);
      step.set_state(h0, c0);
      const std::string what = to_string(cell) + " input " + std::to_string(input);
      for (int64_t t = 0; t < c.steps; ++t) {
        step.input().copy_(x[t]);
        const at::Tensor& y = step.run();
        ASSERT_EQ(y.scalar_type(), at::kFloat);
        EXPECT_LT(rel_error(y[0], seq[0][t]), 1e-2) << what << " step " << t;
        EXPECT_LT(rel_error(y[0], f32[0][t]), kTolerance) << what << " step " << t;
      }
      EXPECT_LT(rel_error(step.h(), seq[1]), 1e-2) << what;
      EXPECT_EQ(step.h().scalar_type(), at::kFloat);
      if (cell == Cell::LSTM) {
        EXPECT_LT(rel_error(step.c(), seq[2]), 1e-2) << what;
      }
      EXPECT_GT(rel_error(step.h(), f32[1]), kSurelyRounded) << what;
    }
  }
}

TEST(Bf16Options, Bf16WithStockTorchRnnsIsAClearError) {
  try {
    RnnStack rnn(RnnStackOptions(Cell::GRU, 4, 4).impl(RnnImpl::Torch).precision(Precision::BF16));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(
        e.what(),
        "--precision bf16 needs --rnn-impl onednn or gemm (the stock torch RNNs run in f32 only)");
  }
  EXPECT_EQ(parse_precision("bf16"), Precision::BF16);
  EXPECT_EQ(to_string(parse_precision("f32")), "f32");
  EXPECT_THROW(parse_precision("fp16"), Error);
}

}  // namespace
}  // namespace s2s::kernels
