// The seq2seq model with bf16 RNN kernels: it trains like f32 (losses within 5% step by step,
// f32 parameters and gradients), and greedy decoding, which takes the fused DecodeStep, agrees
// with f32 on a trained model.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>

#include "s2s/seq2seq.h"

namespace s2s {
namespace {

constexpr int64_t kVocab = 13;

Seq2Seq small_model(Cell cell, Precision precision, RnnImpl impl = RnnImpl::OneDNN) {
  return Seq2Seq(
      Seq2SeqOptions(kVocab).cell(cell).hidden(48).layers(2).dropout(0.0).precision(precision).impl(
          impl));
}

// A batch of the reverse task (learnable without attention): source, decoder input, target.
std::array<at::Tensor, 3> reverse_batch(int64_t len, int64_t batch) {
  const at::Tensor src = torch::randint(3, kVocab, {len, batch});
  const at::Tensor tgt = src.flip({0});
  const at::Tensor tgt_in =
      torch::cat({torch::full({1, batch}, kSosId, torch::kLong), tgt.narrow(0, 0, len - 1)});
  return {src, tgt_in, tgt};
}

// Trains `model` for `steps` Adam steps on seeded batches; returns the losses.
std::vector<double> train(Seq2Seq& model, int steps, double lr) {
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(lr));
  torch::manual_seed(2);
  std::vector<double> losses;
  model->train();
  for (int s = 0; s < steps; ++s) {
    const auto [src, tgt_in, tgt] = reverse_batch(6, 32);
    adam.zero_grad();
    const at::Tensor loss =
        torch::nll_loss(model->forward(src, tgt_in).reshape({-1, kVocab}), tgt.reshape({-1}));
    loss.backward();
    for (const auto& p : model->parameters()) {
      EXPECT_EQ(p.scalar_type(), at::kFloat);  // master weights stay f32
      EXPECT_EQ(p.grad().scalar_type(), at::kFloat);
    }
    adam.step();
    losses.push_back(loss.item<double>());
  }
  return losses;
}

std::string join(const std::vector<double>& v) {
  std::string s;
  for (double x : v) s += std::to_string(x) + " ";
  return s;
}

TEST(Bf16Model, TrainingStepsGiveLossesWithinFivePercentOfF32) {
  for (RnnImpl impl : {RnnImpl::OneDNN, RnnImpl::Gemm})
    for (Cell cell : {Cell::GRU, Cell::LSTM, Cell::RNN}) {
      std::vector<double> losses[2];
      for (Precision precision : {Precision::F32, Precision::BF16}) {
        torch::manual_seed(1);  // the same initial weights
        Seq2Seq model = small_model(cell, precision, impl);
        losses[precision == Precision::BF16] = train(model, 10, 1e-2);
      }
      const std::vector<double>&f32 = losses[0], &bf16 = losses[1];
      const std::string what = to_string(impl) + " " + to_string(cell) + "\nf32:  " + join(f32) +
                               "\nbf16: " + join(bf16);
      for (size_t i = 0; i < f32.size(); ++i) {
        EXPECT_NEAR(bf16[i], f32[i], 0.05 * f32[i]) << what << "\nstep " << i;
      }
      EXPECT_NE(bf16.front(), f32.front()) << "bf16 gave f32's exact loss: did it run at all?";
      // The losses must move, or closeness would say nothing about the bf16 gradients.
      EXPECT_LT(bf16.back(), 0.9 * bf16.front()) << what;
    }
}

// A model trained (in f32) until its predictions are confident decodes the same in bf16 almost
// everywhere; random weights would not show this (a chaotic tanh RNN amplifies any rounding).
TEST(Bf16Model, GreedyDecodingOfATrainedModelAgreesWithF32) {
  for (Cell cell : {Cell::GRU, Cell::LSTM, Cell::RNN}) {
    torch::manual_seed(1);
    Seq2Seq f32 = small_model(cell, Precision::F32);
    const std::vector<double> losses = train(f32, 150, 1e-2);
    Seq2Seq bf16 = small_model(cell, Precision::BF16);
    {
      torch::NoGradGuard no_grad;
      const auto dst = bf16->parameters();
      const auto src = f32->parameters();
      for (size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
    }
    f32->eval();
    bf16->eval();
    torch::manual_seed(3);
    const auto [input, tgt_in, tgt] = reverse_batch(6, 64);
    const at::Tensor want = f32->greedy(input, 7), got = bf16->greedy(input, 7);
    const std::string what = to_string(cell) + ", last loss " + std::to_string(losses.back());
    ASSERT_EQ(got.dim(), 2) << what;
    ASSERT_EQ(got.size(1), 64) << what;
    ASSERT_EQ(got.size(0), want.size(0)) << what;
    EXPECT_GE(got.min().item<int64_t>(), 0) << what;
    EXPECT_LT(got.max().item<int64_t>(), kVocab) << what;
    // Trained enough that agreement means something: f32 gets most tokens right.
    const int64_t n = std::min<int64_t>(6, want.size(0));
    const double f32_right =
        want.narrow(0, 0, n).eq(tgt.narrow(0, 0, n)).to(torch::kDouble).mean().item<double>();
    EXPECT_GE(f32_right, 0.5) << what;
    const double agree = got.eq(want).to(torch::kDouble).mean().item<double>();
    EXPECT_GE(agree, 0.95) << what << "\n" << got << "\n" << want;
  }
}

}  // namespace
}  // namespace s2s
