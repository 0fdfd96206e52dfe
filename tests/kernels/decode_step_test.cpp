// DecodeStep step by step against the whole-sequence kernels: the Gemm step is gemm_rnn's
// arithmetic one step at a time (f32 and bf16), the OneDNN step onednn_rnn's; and the packed
// products it is built on against plain ones.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "kernels/decode_step.h"
#include "kernels/gemm_rnn.h"
#include "kernels/matmul.h"
#include "kernels/onednn_rnn.h"
#include "kernels/rnn_test_util.h"
#include "kernels/weight_cache.h"
#include "s2s/error.h"

namespace s2s::kernels {
namespace {

using test_util::random_rnn_params;
using test_util::rel_error;
using test_util::ThreadCount;

struct Shape {
  int64_t layers, batch, input, hidden;
};

std::string describe(Cell cell, const Shape& s, Precision p, StepKernels k) {
  return to_string(cell) + " L" + std::to_string(s.layers) + " B" + std::to_string(s.batch) + " I" +
         std::to_string(s.input) + " H" + std::to_string(s.hidden) + " " + to_string(p) +
         (k == StepKernels::Gemm ? " gemm" : " onednn");
}

// Runs `steps` steps of x through a DecodeStep from (h0, c0); checks every step's output and
// the final state against the sequence kernel's, within `tolerance` (relative max-norm).
void expect_steps_match(Cell cell, const Shape& s, Precision precision, StepKernels kernels,
                        double tolerance) {
  const int64_t steps = 4;
  at::manual_seed(11);
  const std::vector<at::Tensor> params =
      random_rnn_params(cell, s.layers, s.input, s.hidden, /*requires_grad=*/false);
  const at::Tensor x = at::randn({steps, s.batch, s.input});
  const at::Tensor h0 = at::randn({s.layers, s.batch, s.hidden});
  const at::Tensor c0 = cell == Cell::LSTM ? at::randn_like(h0) : at::Tensor();
  at::NoGradGuard no_grad;
  const RnnResult seq = kernels == StepKernels::Gemm
                            ? gemm_rnn(cell, x, h0, c0, params, s.layers, 0.0, false, precision)
                            : onednn_rnn(cell, x, h0, c0, params, s.layers, 0.0, false, precision);
  DecodeStep step(cell, params, s.layers, s.batch, precision, kernels);
  step.set_state(h0, c0);
  const std::string what = describe(cell, s, precision, kernels);
  for (int64_t t = 0; t < steps; ++t) {
    step.input().copy_(x[t]);
    const at::Tensor& y = step.run();
    ASSERT_EQ(y.sizes(), (at::IntArrayRef{1, s.batch, s.hidden})) << what;
    ASSERT_EQ(y.scalar_type(), at::kFloat) << what;
    EXPECT_LT(rel_error(y[0], seq.output[t]), tolerance) << what << " step " << t;
  }
  EXPECT_LT(rel_error(step.h(), seq.h_n), tolerance) << what;
  if (cell == Cell::LSTM) {
    EXPECT_LT(rel_error(step.c(), seq.c_n), tolerance) << what;
  }
}

// Sizes: equal input and hidden (oneDNN stacks every layer in one primitive), narrower and
// wider inputs, odd widths, batch 1, one layer.
const Shape kShapes[] = {{1, 1, 8, 8}, {2, 5, 7, 13}, {3, 4, 24, 24}, {4, 3, 40, 17}};

TEST(DecodeStep, GemmStepsAreTheSequenceKernelsStepsInF32) {
  for (Cell cell : {Cell::GRU, Cell::LSTM, Cell::RNN}) {
    for (const Shape& s : kShapes) {
      expect_steps_match(cell, s, Precision::F32, StepKernels::Gemm, 1e-5);
      expect_steps_match(cell, s, Precision::F32, StepKernels::OneDNN, 1e-5);
    }
  }
}

// bf16: the same roundings in the same places as gemm_rnn (weights, inputs and states rounded
// for the products only), so the two agree to f32 summation order; onednn_rnn keeps bf16 states
// between steps, its DecodeStep too (bf16_test.cpp bounds that against f32).
TEST(DecodeStep, GemmStepsAreTheSequenceKernelsStepsInBf16) {
  for (Cell cell : {Cell::GRU, Cell::LSTM, Cell::RNN}) {
    for (const Shape& s : kShapes) {
      expect_steps_match(cell, s, Precision::BF16, StepKernels::Gemm, 1e-4);
    }
  }
}

TEST(DecodeStep, GemmStepsGiveTheSameOnTwoThreads) {
  ThreadCount two(2);
  for (Precision precision : {Precision::F32, Precision::BF16}) {
    expect_steps_match(Cell::GRU, {4, 16, 32, 32}, precision, StepKernels::Gemm,
                       precision == Precision::F32 ? 1e-5 : 1e-4);
  }
}

// A weight update between two DecodeSteps reaches the second: the packed copies are cached on
// the parameters' versions.
TEST(DecodeStep, GemmStepsSeeUpdatedWeights) {
  at::manual_seed(3);
  std::vector<at::Tensor> params = random_rnn_params(Cell::GRU, 2, 8, 8, false);
  const at::Tensor x = at::randn({1, 2, 8}), h0 = at::zeros({2, 2, 8});
  at::NoGradGuard no_grad;
  for (int round = 0; round < 2; ++round) {
    if (round == 1) params[1].mul_(0.5);  // w_hh_l0, in place: its version changes
    DecodeStep step(Cell::GRU, params, 2, 2, Precision::BF16, StepKernels::Gemm);
    step.set_state(at::randn({2, 2, 8}), {});
    const at::Tensor h = step.h().clone();
    step.input().copy_(x[0]);
    const at::Tensor y = step.run().clone();
    std::vector<at::Tensor> fresh;  // new tensors: nothing cached for them
    for (const auto& p : params) fresh.push_back(p.clone());
    const RnnResult seq = gemm_rnn(Cell::GRU, x, h, {}, fresh, 2, 0.0, false, Precision::BF16);
    EXPECT_LT(rel_error(y[0], seq.output[0]), 1e-4) << "round " << round;
  }
}

// With an embedding the step reads token ids: Gemm takes the first layer's input projections
// from the f32 table (gemm_rnn_tokens' arithmetic), OneDNN looks the embedding rows up.
TEST(DecodeStep, StepsReadTokensThroughTheEmbedding) {
  const int64_t layers = 2, batch = 3, width = 16, vocabulary = 11, steps = 3;
  for (Cell cell : {Cell::GRU, Cell::LSTM, Cell::RNN}) {
    for (Precision precision : {Precision::F32, Precision::BF16}) {
      for (StepKernels kernels : {StepKernels::Gemm, StepKernels::OneDNN}) {
        const std::string what = describe(cell, {layers, batch, width, width}, precision, kernels);
        at::manual_seed(4);
        const auto params = random_rnn_params(cell, layers, width, width, false);
        const at::Tensor embedding = at::randn({vocabulary, width});
        const at::Tensor ids = at::randint(vocabulary, {steps, batch});
        const at::Tensor h0 = at::randn({layers, batch, width});
        const at::Tensor c0 = cell == Cell::LSTM ? at::randn_like(h0) : at::Tensor();
        at::NoGradGuard no_grad;
        const at::Tensor table = at::addmm(params[2], embedding, params[0].t());
        const RnnResult seq =
            kernels == StepKernels::Gemm
                ? gemm_rnn_tokens(cell, ids, table, h0, c0, params, layers, 0.0, false, precision)
                : onednn_rnn(cell, at::embedding(embedding, ids), h0, c0, params, layers, 0.0,
                             false, precision);
        // oneDNN's bf16 step keeps bf16 states; its sequence kernel agrees to bf16_test's 1e-2.
        const double tolerance =
            kernels == StepKernels::OneDNN && precision == Precision::BF16 ? 1e-2 : 1e-4;
        DecodeStep step(cell, params, layers, batch, precision, kernels, embedding);
        step.set_state(h0, c0);
        for (int64_t t = 0; t < steps; ++t) {
          step.tokens().copy_(ids[t]);
          EXPECT_LT(rel_error(step.run()[0], seq.output[t]), tolerance) << what << " step " << t;
        }
        step.tokens()[1] = vocabulary;
        try {
          step.run();
          ADD_FAILURE() << what << ": expected an error";
        } catch (const Error& e) {
          EXPECT_STREQ(e.what(), "DecodeStep: token id 11 is outside the 11-entry embedding");
        }
      }
    }
  }
}

// The packed form of b gives the plain product, for a's of any row count, f32 and bf16.
TEST(Matmul, PackedWeightsGiveThePlainProduct) {
  at::manual_seed(1);
  for (const bool bf16 : {false, true}) {
    for (const int64_t rows : {int64_t{1}, int64_t{7}, int64_t{64}}) {
      const auto type = bf16 ? at::kBFloat16 : at::kFloat;
      const at::Tensor a = at::randn({rows, 40}).to(type), w = at::randn({24, 40}).to(type);
      const at::Tensor bias = at::randn({24});
      at::Tensor packed = at::empty({packed_bytes(40, 24, bf16)}, at::kByte);
      const Matrix wt = Matrix{w.data_ptr(), 24, 40, 40, 1}.t();  // W^T [40, 24]
      pack(wt, packed.data_ptr(), bf16);
      at::Tensor plain_out = at::empty({rows, 24}), packed_out = at::empty({rows, 24});
      const Matrix am{a.data_ptr(), rows, 40, 40, 1};
      matmul(am, wt, plain_out.data_ptr<float>(), bias.data_ptr<float>(), bf16);
      matmul(am, PackedMatrix{wt, packed.data_ptr()}, packed_out.data_ptr<float>(),
             bias.data_ptr<float>(), bf16);
      const at::Tensor expected = at::addmm(bias, a.to(at::kFloat), w.to(at::kFloat).t());
      EXPECT_LT(rel_error(packed_out, expected), 1e-5) << "bf16 " << bf16 << " rows " << rows;
      EXPECT_LT(rel_error(packed_out, plain_out), 1e-5) << "bf16 " << bf16 << " rows " << rows;
    }
  }
}

}  // namespace
}  // namespace s2s::kernels
