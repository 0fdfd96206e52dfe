// gemm_rnn with lengths (packed sequences): against gemm_rnn on each column alone, cut to its
// length (gemm_rnn itself is checked against stock ATen in onednn_rnn_test): outputs (zero past
// each length), final states and every gradient, f32 within 1e-5 relative and bf16 within the
// bf16 tests' tolerance of f32; with dropout, against the unpacked run over the padding with the
// same masks; the token-table entry point; the argument errors; and a bidirectional RnnStack
// against each column alone.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include <functional>
#include <string>
#include <vector>

#include "kernels/gemm_rnn.h"
#include "kernels/rnn_test_util.h"
#include "s2s/error.h"
#include "s2s/rnn.h"

namespace s2s::kernels {
namespace {

using test_util::expect_gradients_near;
using test_util::gradient_labels;
using test_util::random_rnn_inputs;
using test_util::random_rnn_params;
using test_util::rel_error;
using test_util::result_list;
using test_util::ThreadCount;

struct Case {
  Cell cell;
  int64_t layers, steps, input, hidden;
  std::vector<int64_t> lengths;  // one per column, in 1..steps
  int threads;
  Precision precision;
};

std::string name(const Case& c) {
  std::string lengths;
  for (int64_t n : c.lengths) lengths += "_" + std::to_string(n);
  return to_string(c.cell) + "_L" + std::to_string(c.layers) + "_T" + std::to_string(c.steps) +
         "_I" + std::to_string(c.input) + "_H" + std::to_string(c.hidden) + "_lengths" + lengths +
         "_" + std::to_string(c.threads) + "threads_" + to_string(c.precision);
}

void PrintTo(const Case& c, std::ostream* os) {
  *os << name(c);
}

// Sum of each result times fixed random weights: a loss that reaches every output and state.
at::Tensor weighted_sum(const std::vector<at::Tensor>& results, int64_t seed) {
  at::manual_seed(seed);
  at::Tensor loss = at::zeros({});
  for (const at::Tensor& r : results) loss = loss + (r * at::randn(r.sizes())).sum();
  return loss;
}

// The reference: each column alone, unpacked, on its first lengths[b] steps; outputs padded
// with zeros to T, results put side by side in column order.
std::vector<at::Tensor> column_by_column(const Case& c, const at::Tensor& input,
                                         const at::Tensor& h0, const at::Tensor& c0,
                                         const std::vector<at::Tensor>& params) {
  std::vector<at::Tensor> outputs, h_n, c_n;
  for (size_t b = 0; b < c.lengths.size(); ++b) {
    const auto column = static_cast<int64_t>(b);
    const int64_t n = c.lengths[b];
    const at::Tensor c0_b = c0.defined() ? c0.narrow(1, column, 1) : c0;
    const RnnResult r =
        gemm_rnn(c.cell, input.narrow(0, 0, n).narrow(1, column, 1), h0.narrow(1, column, 1), c0_b,
                 params, c.layers, 0.0, true, Precision::F32);
    outputs.push_back(n == c.steps ? r.output
                                   : at::cat({r.output, at::zeros({c.steps - n, 1, c.hidden})}));
    h_n.push_back(r.h_n);
    if (r.c_n.defined()) c_n.push_back(r.c_n);
  }
  std::vector<at::Tensor> out{at::cat(outputs, 1), at::cat(h_n, 1)};
  if (!c_n.empty()) out.push_back(at::cat(c_n, 1));
  return out;
}

class GemmRnnPackedTest : public ::testing::TestWithParam<Case> {};

TEST_P(GemmRnnPackedTest, MatchesEachColumnAloneWithEveryGradient) {
  const Case c = GetParam();
  const ThreadCount threads(c.threads);
  const auto batch = static_cast<int64_t>(c.lengths.size());
  at::manual_seed(42);
  const std::vector<at::Tensor> params =
      random_rnn_params(c.cell, c.layers, c.input, c.hidden, /*requires_grad=*/true);
  const auto [input, h0, c0, inputs] =
      random_rnn_inputs(c.cell, c.layers, c.steps, batch, c.input, c.hidden, params);

  const auto want = column_by_column(c, input, h0, c0, params);
  const auto got = result_list(gemm_rnn(c.cell, input, h0, c0, params, c.layers, 0.0, true,
                                        c.precision, at::tensor(c.lengths, at::kLong)));

  const double tolerance = c.precision == Precision::F32 ? 1e-5 : 3e-2;
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_TRUE(got[i].sizes().equals(want[i].sizes())) << "output " << i;
    EXPECT_LT(rel_error(got[i], want[i]), tolerance) << "output " << i;
  }
  // Past each length the output is exactly zero, as pad_packed_sequence gives it.
  for (size_t b = 0; b < c.lengths.size(); ++b) {
    const int64_t n = c.lengths[b];
    if (n < c.steps) {
      const at::Tensor padding =
          got[0].narrow(0, n, c.steps - n).select(1, static_cast<int64_t>(b));
      EXPECT_EQ(padding.abs().max().item<float>(), 0.0f) << "column " << b;
    }
  }
  const auto grads_want = torch::autograd::grad({weighted_sum(want, 5)}, inputs);
  const auto grads_got = torch::autograd::grad({weighted_sum(got, 5)}, inputs);
  expect_gradients_near(grads_got, grads_want, gradient_labels("input", c0.defined(), c.layers),
                        tolerance);

  // Without gradients the kernel runs its inference path (weights from the cache, gates kept
  // one step at a time): the same results as the recorded run, to rounding.
  at::NoGradGuard no_grad;
  const auto inferred = result_list(gemm_rnn(c.cell, input, h0, c0, params, c.layers, 0.0, true,
                                             c.precision, at::tensor(c.lengths, at::kLong)));
  ASSERT_EQ(inferred.size(), got.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_LT(rel_error(inferred[i], got[i]), 1e-6) << "without gradients, output " << i;
  }
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (Cell cell : {Cell::GRU, Cell::LSTM, Cell::RNN}) {
    for (Precision precision : {Precision::F32, Precision::BF16}) {
      out.push_back({cell, 1, 3, 5, 7, {2}, 1, precision});  // one column, shorter than T
      // Unsorted, repeated lengths, the longest below T (the last steps run no column).
      out.push_back({cell, 2, 7, 9, 13, {3, 6, 1, 6, 2}, 1, precision});
      out.push_back({cell, 4, 6, 16, 12, {6, 1, 4, 5, 6, 2, 3}, 2, precision});  // wavefront
    }
  }
  out.push_back({Cell::LSTM, 3, 9, 32, 32, {9, 9, 9, 9}, 2, Precision::F32});  // all of length T
  return out;
}

INSTANTIATE_TEST_SUITE_P(Shapes, GemmRnnPackedTest, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return name(info.param); });

// With dropout, packed against the same run over the padding with the same seed: the masks
// are the same values at the same places, so the steps inside each length agree, outputs and
// gradients (a loss on the outputs inside the lengths only: the padding's steps come after and
// feed nothing else).
TEST(GemmRnnPacked, DropoutMatchesTheRunOverThePadding) {
  const ThreadCount threads(2);
  const Cell cell = Cell::LSTM;
  const int64_t layers = 3, steps = 6, input_size = 8, hidden = 10;
  const std::vector<int64_t> lengths{4, 6, 1, 5, 6, 2};
  const auto batch = static_cast<int64_t>(lengths.size());
  at::manual_seed(1);
  const std::vector<at::Tensor> params = random_rnn_params(cell, layers, input_size, hidden, true);
  const auto [input, h0, c0, inputs] =
      random_rnn_inputs(cell, layers, steps, batch, input_size, hidden, params);
  const at::Tensor len = at::tensor(lengths, at::kLong);
  const at::Tensor inside = at::arange(steps).unsqueeze(1).lt(len.unsqueeze(0)).unsqueeze(2);
  at::manual_seed(9);
  const RnnResult padded = gemm_rnn(cell, input, h0, c0, params, layers, 0.5, true);
  at::manual_seed(9);
  const RnnResult packed =
      gemm_rnn(cell, input, h0, c0, params, layers, 0.5, true, Precision::F32, len);
  EXPECT_LT(rel_error(packed.output, padded.output * inside), 1e-5);
  EXPECT_EQ((packed.output * inside.logical_not()).abs().max().item<float>(), 0.0f);

  const at::Tensor w = at::randn(padded.output.sizes()) * inside;
  const auto want = torch::autograd::grad({(padded.output * w).sum()}, inputs);
  const auto got = torch::autograd::grad({(packed.output * w).sum()}, inputs);
  expect_gradients_near(got, want, gradient_labels("input", true, layers), 1e-5);
}

// The token-table entry point with lengths against gemm_rnn with lengths on the embedding.
TEST(GemmRnnPacked, TokensMatchTheEmbeddedInput) {
  const Cell cell = Cell::GRU;
  const int64_t layers = 2, steps = 5, vocab = 6, input_size = 7, hidden = 9;
  const at::Tensor len = at::tensor({5, 2, 3, 1, 5, 4, 2, 3}, at::kLong);
  at::manual_seed(4);
  const std::vector<at::Tensor> params = random_rnn_params(cell, layers, input_size, hidden, true);
  const at::Tensor embedding = at::randn({vocab, input_size}).requires_grad_();
  const at::Tensor tokens = at::randint(vocab, {steps, len.size(0)}, at::kLong);
  const at::Tensor h0 = at::randn({layers, len.size(0), hidden}).requires_grad_();
  const auto want = result_list(gemm_rnn(cell, at::embedding(embedding, tokens), h0, at::Tensor(),
                                         params, layers, 0.0, true, Precision::F32, len));
  const at::Tensor table = at::addmm(params[2], embedding, params[0].t());
  const auto got = result_list(gemm_rnn_tokens(cell, tokens, table, h0, at::Tensor(), params,
                                               layers, 0.0, true, Precision::F32, len));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_LT(rel_error(got[i], want[i]), 1e-5) << i;
  std::vector<at::Tensor> inputs{embedding, h0};
  inputs.insert(inputs.end(), params.begin(), params.end());
  const auto grads_want = torch::autograd::grad({weighted_sum(want, 3)}, inputs);
  const auto grads_got = torch::autograd::grad({weighted_sum(got, 3)}, inputs);
  expect_gradients_near(grads_got, grads_want, gradient_labels("embedding", false, layers), 1e-5);
}

void expect_error(const std::function<void()>& call, const std::string& message) {
  try {
    call();
    FAIL() << "expected s2s::Error: " << message;
  } catch (const Error& e) {
    EXPECT_EQ(e.what(), message);
  }
}

TEST(GemmRnnPacked, NamesBadLengths) {
  const std::vector<at::Tensor> params = random_rnn_params(Cell::GRU, 1, 4, 3, false);
  const at::Tensor input = at::zeros({3, 2, 4}), h0 = at::zeros({1, 2, 3});
  const auto run = [&](const at::Tensor& lengths) {
    return [=] {
      gemm_rnn(Cell::GRU, input, h0, at::Tensor(), params, 1, 0.0, false, Precision::F32, lengths);
    };
  };
  expect_error(run(at::tensor({1, 0}, at::kLong)), "gemm_rnn: a length is outside 1..3");
  expect_error(run(at::tensor({4, 2}, at::kLong)), "gemm_rnn: a length is outside 1..3");
  expect_error(run(at::tensor({1, 2, 3}, at::kLong)),
               "gemm_rnn: lengths must be a [2] integer CPU tensor");
  expect_error(run(at::tensor({1.0, 2.0})), "gemm_rnn: lengths must be a [2] integer CPU tensor");
  // Only gemm takes lengths; the others say so rather than ignore them.
  expect_error(
      [&] {
        run_rnn(RnnImpl::OneDNN, Precision::F32, Cell::GRU, input, h0, at::Tensor(), params, 1, 0.0,
                false, at::tensor({1, 2}, at::kLong));
      },
      kPackedNeedsGemm);
}

// A bidirectional stack with lengths against each column alone: the backward direction starts
// at each column's last token, not at the padding, and the final states are at the lengths.
TEST(GemmRnnPacked, BidirectionalStackMatchesEachColumnAlone) {
  at::manual_seed(6);
  RnnStack rnn(
      RnnStackOptions(Cell::LSTM, 8, 6).num_layers(2).impl(RnnImpl::Gemm).bidirectional(true));
  ASSERT_TRUE(rnn->runs_packed());
  const std::vector<int64_t> lengths{3, 7, 1, 5, 7};
  const int64_t steps = 7, batch = 5, vocab = 9;
  const at::Tensor embedding = at::randn({vocab, 8}).requires_grad_();
  const at::Tensor tokens = at::randint(vocab, {steps, batch}, at::kLong);
  auto [y, state] = rnn->forward_tokens(tokens, embedding, {}, at::tensor(lengths, at::kLong));
  std::vector<at::Tensor> ys, hs, cs;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t n = lengths[static_cast<size_t>(b)];
    auto [y_b, s_b] = rnn->forward_tokens(tokens.narrow(0, 0, n).narrow(1, b, 1), embedding);
    ys.push_back(n == steps ? y_b : at::cat({y_b, at::zeros({steps - n, 1, 12})}));
    hs.push_back(s_b.h);
    cs.push_back(s_b.c);
  }
  const at::Tensor y_want = at::cat(ys, 1), h_want = at::cat(hs, 1), c_want = at::cat(cs, 1);
  EXPECT_LT(rel_error(y, y_want), 1e-5);
  EXPECT_LT(rel_error(state.h, h_want), 1e-5);
  EXPECT_LT(rel_error(state.c, c_want), 1e-5);
  std::vector<at::Tensor> wrt{embedding};
  for (const at::Tensor& p : rnn->flat_weights()) wrt.push_back(p);
  const auto want = torch::autograd::grad({weighted_sum({y_want, h_want, c_want}, 8)}, wrt);
  const auto got = torch::autograd::grad({weighted_sum({y, state.h, state.c}, 8)}, wrt);
  for (size_t i = 0; i < wrt.size(); ++i) {
    EXPECT_LT(rel_error(got[i], want[i]), 1e-5) << "gradient " << i;
  }
  // Without gradients auto runs oneDNN, which takes no lengths.
  at::NoGradGuard no_grad;
  EXPECT_FALSE(RnnStack(RnnStackOptions(Cell::LSTM, 8, 6))->runs_packed());
}

}  // namespace
}  // namespace s2s::kernels
