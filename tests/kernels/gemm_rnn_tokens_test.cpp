// gemm_rnn_tokens (the first layer's input projection as a per-token table) against gemm_rnn on
// the embedded tokens, itself checked against stock ATen in onednn_rnn_test: outputs and every
// gradient (the embedding's, the states', all weights and biases), f32 within 1e-5 relative and
// bf16 within the bf16 tests' tolerance of f32; and RnnStack::forward_tokens against forward on
// the embedding, bidirectional included.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

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
using test_util::random_rnn_params;
using test_util::rel_error;
using test_util::result_list;
using test_util::ThreadCount;

struct Case {
  Cell cell;
  int64_t layers, steps, batch, vocab, input, hidden;
  double dropout;
  int threads;
  Precision precision;
};

std::string name(const Case& c) {
  return to_string(c.cell) + "_L" + std::to_string(c.layers) + "_T" + std::to_string(c.steps) +
         "_B" + std::to_string(c.batch) + "_V" + std::to_string(c.vocab) + "_I" +
         std::to_string(c.input) + "_H" + std::to_string(c.hidden) +
         (c.dropout > 0 ? "_dropout" : "") + "_" + std::to_string(c.threads) + "threads_" +
         to_string(c.precision);
}

void PrintTo(const Case& c, std::ostream* os) {
  *os << name(c);
}

class GemmRnnTokensTest : public ::testing::TestWithParam<Case> {};

TEST_P(GemmRnnTokensTest, MatchesGemmRnnOnTheEmbeddingWithEveryGradient) {
  const Case c = GetParam();
  const ThreadCount threads(c.threads);
  at::manual_seed(42);
  const std::vector<at::Tensor> params =
      random_rnn_params(c.cell, c.layers, c.input, c.hidden, /*requires_grad=*/true);
  const at::Tensor embedding = at::randn({c.vocab, c.input}).requires_grad_();
  // Every id repeats (vocab < steps x batch in most cases), so the table's rows sum gradients.
  const at::Tensor tokens = at::randint(c.vocab, {c.steps, c.batch}, at::kLong);
  const at::Tensor h0 = at::randn({c.layers, c.batch, c.hidden}).requires_grad_();
  const at::Tensor c0 = c.cell == Cell::LSTM
                            ? at::randn({c.layers, c.batch, c.hidden}).requires_grad_()
                            : at::Tensor();
  std::vector<at::Tensor> inputs{embedding, h0};
  if (c0.defined()) inputs.push_back(c0);
  inputs.insert(inputs.end(), params.begin(), params.end());

  // The reference in f32; the same seed before each run draws the same dropout masks.
  at::manual_seed(7);
  const auto want = result_list(gemm_rnn(c.cell, at::embedding(embedding, tokens), h0, c0, params,
                                         c.layers, c.dropout, true, Precision::F32));
  at::manual_seed(7);
  const at::Tensor table = at::addmm(params[2], embedding, params[0].t());
  const auto got = result_list(gemm_rnn_tokens(c.cell, tokens, table, h0, c0, params, c.layers,
                                               c.dropout, true, c.precision));

  // f32: the same products in another order; bf16: bf16_test's tolerance against f32.
  const double tolerance = c.precision == Precision::F32 ? 1e-5 : 3e-2;
  ASSERT_EQ(got.size(), want.size());
  at::Tensor loss_want = at::zeros({}), loss_got = at::zeros({});
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_TRUE(got[i].sizes().equals(want[i].sizes())) << "output " << i;
    EXPECT_LT(rel_error(got[i], want[i]), tolerance) << "output " << i;
    const at::Tensor w = at::randn(want[i].sizes());
    loss_want = loss_want + (want[i] * w).sum();
    loss_got = loss_got + (got[i] * w).sum();
  }
  const auto grads_want = torch::autograd::grad({loss_want}, inputs);
  const auto grads_got = torch::autograd::grad({loss_got}, inputs);
  expect_gradients_near(grads_got, grads_want, gradient_labels("embedding", c0.defined(), c.layers),
                        tolerance);
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (Cell cell : {Cell::GRU, Cell::LSTM, Cell::RNN}) {
    for (Precision precision : {Precision::F32, Precision::BF16}) {
      out.push_back({cell, 1, 1, 1, 3, 5, 7, 0.0, 1, precision});    // one step, one row
      out.push_back({cell, 2, 6, 4, 5, 9, 13, 0.0, 1, precision});   // odd sizes
      out.push_back({cell, 4, 5, 3, 7, 16, 12, 0.5, 2, precision});  // wavefront, dropout
    }
  }
  out.push_back({Cell::GRU, 3, 10, 8, 50, 32, 32, 0.0, 2, Precision::F32});  // vocab < T x B
  return out;
}

INSTANTIATE_TEST_SUITE_P(Shapes, GemmRnnTokensTest, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return name(info.param); });

TEST(GemmRnnTokensArguments, NamesATokenOutsideTheTable) {
  const std::vector<at::Tensor> params = random_rnn_params(Cell::GRU, 1, 4, 3, false);
  const at::Tensor table = at::zeros({5, 9});
  const at::Tensor h0 = at::zeros({1, 2, 3});
  const at::Tensor tokens = at::tensor({0, 4, 5, 1}, at::kLong).view({2, 2});
  try {
    gemm_rnn_tokens(Cell::GRU, tokens, table, h0, at::Tensor(), params, 1, 0.0, false);
    FAIL() << "expected s2s::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "gemm_rnn_tokens: a token id is outside the table's 0..4");
  }
}

TEST(GemmRnnTokensArguments, NamesATableOfTheWrongWidth) {
  const std::vector<at::Tensor> params = random_rnn_params(Cell::LSTM, 1, 4, 3, false);
  const at::Tensor h0 = at::zeros({1, 2, 3});
  const at::Tensor tokens = at::zeros({2, 2}, at::kLong);
  try {
    gemm_rnn_tokens(Cell::LSTM, tokens, at::zeros({5, 9}), h0, h0, params, 1, 0.0, false);
    FAIL() << "expected s2s::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "gemm_rnn_tokens: table must be a [V, 12] float CPU tensor");
  }
}

// RnnStack::forward_tokens against forward(embedding[tokens]): the same outputs, final states and
// gradients, whichever way run_rnn_tokens takes (the table with gemm in training and a vocabulary
// of at most the 21 tokens, the embedding otherwise: onednn, or 40 entries), one direction or two.
TEST(RnnStackTokens, ForwardTokensEqualsForwardOnTheEmbedding) {
  for (const bool bidirectional : {false, true}) {
    for (const auto& [impl, vocab] : {std::pair{RnnImpl::Gemm, 4},
                                      {RnnImpl::Gemm, 40},
                                      {RnnImpl::OneDNN, 4},
                                      {RnnImpl::Auto, 4}}) {
      const std::string what = std::string(bidirectional ? "bidirectional " : "") +
                               to_string(impl) + " vocabulary " + std::to_string(vocab);
      at::manual_seed(3);
      RnnStack rnn(RnnStackOptions(Cell::LSTM, 8, 6)
                       .num_layers(2)
                       .dropout(0.25)
                       .impl(impl)
                       .bidirectional(bidirectional));
      const at::Tensor embedding = at::randn({vocab, 8}).requires_grad_();
      const at::Tensor tokens = at::randint(vocab, {7, 3}, at::kLong);
      at::manual_seed(11);
      auto [y_want, s_want] = rnn->forward(at::embedding(embedding, tokens));
      at::manual_seed(11);
      auto [y_got, s_got] = rnn->forward_tokens(tokens, embedding);
      EXPECT_LT(rel_error(y_got, y_want), 1e-5) << what;
      EXPECT_LT(rel_error(s_got.h, s_want.h), 1e-5) << what;
      EXPECT_LT(rel_error(s_got.c, s_want.c), 1e-5) << what;
      const at::Tensor w = at::randn(y_want.sizes());
      const std::vector<at::Tensor> wrt{embedding, rnn->flat_weights()[0], rnn->flat_weights()[2]};
      const auto want = torch::autograd::grad({(y_want * w).sum() + s_want.h.sum()}, wrt);
      const auto got = torch::autograd::grad({(y_got * w).sum() + s_got.h.sum()}, wrt);
      for (size_t i = 0; i < wrt.size(); ++i) {
        EXPECT_LT(rel_error(got[i], want[i]), 1e-5) << what << " gradient " << i;
      }
    }
  }
}

TEST(RnnStackTokens, NamesAnEmbeddingOfTheWrongWidth) {
  RnnStack rnn(RnnStackOptions(Cell::GRU, 8, 6));
  try {
    rnn->forward_tokens(at::zeros({2, 2}, at::kLong), at::zeros({4, 5}));
    FAIL() << "expected s2s::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "an RNN of input size 8 needs a [vocabulary, 8] embedding");
  }
}

}  // namespace
}  // namespace s2s::kernels
