// s2s::train_step, the step `s2s train` repeats and `s2s_bench` times, against the same step
// spelled out in plain ATen/torch: the loss, the update, clipping, the tally, the NaN guard.
#include <gtest/gtest.h>

#include <torch/types.h>  // clip_grad.h uses torch::Tensor without including it

#include <torch/nn/functional/loss.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/sgd.h>

#include <cmath>
#include <limits>

#include "s2s/train_step.h"
#include "s2s/vocab.h"

namespace s2s {
namespace {

constexpr int64_t kVocab = 9;

// Two pairs, the second target one token shorter (padded): "3 4 5 <eos>", "6 7 <eos> <pad>".
Batch two_pairs() {
  Batch b;
  const std::vector<int64_t> ids{3, 6, 4, 7, 5, kEosId, kEosId, kPadId};
  b.src = torch::tensor(ids).reshape({4, 2});
  b.tgt = b.src.clone();
  b.src_lengths = torch::tensor(std::vector<int64_t>{4, 3});
  b.tgt_lengths = b.src_lengths;
  b.tgt_mask = b.tgt != kPadId;
  b.indices = {0, 1};
  return b;
}

Seq2Seq small_model() {
  torch::manual_seed(5);
  return Seq2Seq(Seq2SeqOptions(kVocab).hidden(8).layers(2).dropout(0.0));
}

std::vector<at::Tensor> params_of(Seq2Seq& model) {
  std::vector<at::Tensor> out;
  for (const auto& p : model->parameters()) out.push_back(p.detach().clone());
  return out;
}

// What the step should do, by hand: mean NLL over the real target tokens, its gradients,
// optionally clipped, and an SGD update.
std::vector<at::Tensor> expected_update(Seq2Seq model, const Batch& b, double lr, double clip,
                                        double* loss) {
  auto copy = std::dynamic_pointer_cast<Seq2SeqImpl>(model->clone());
  const at::Tensor logp = copy->forward(b.src, decoder_input(b));
  const at::Tensor nll =
      at::nll_loss(logp.reshape({-1, kVocab}), b.tgt.reshape(-1), {}, at::Reduction::Mean, kPadId);
  *loss = nll.item<double>();
  nll.backward();
  if (clip > 0) torch::nn::utils::clip_grad_norm_(copy->parameters(), clip);
  std::vector<at::Tensor> out;
  for (const auto& p : copy->parameters()) out.push_back((p - lr * p.grad()).detach());
  return out;
}

void expect_params(Seq2Seq& model, const std::vector<at::Tensor>& expected, double tol) {
  const auto actual = params_of(model);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i)
    EXPECT_TRUE(at::allclose(actual[i], expected[i], 0, tol)) << "parameter " << i;
}

TEST(TrainStep, IsMeanNllOverRealTokensBackwardAndOneOptimizerStep) {
  Seq2Seq model = small_model();
  const Batch b = two_pairs();
  double loss = 0;
  const auto expected = expected_update(model, b, 0.5, 0, &loss);
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.5));
  Tally tally;
  const StepResult r = train_step(model, sgd, b, {1.0, 0.0}, tally);
  EXPECT_TRUE(r.finite);
  EXPECT_NEAR(r.loss, loss, 1e-6);
  EXPECT_EQ(r.tokens, 7);  // 4 + 3 real target tokens, the padding left out
  expect_params(model, expected, 1e-6);
  // The tally holds the batch: its summed loss and both sequences.
  EXPECT_EQ(tally.seqs, 2);
  EXPECT_EQ(tally.tokens, 7);
  EXPECT_NEAR(tally.loss(), loss, 1e-6);
}

TEST(TrainStep, LabelSmoothingTrainsOnTorchsSmoothedCrossEntropyAndReportsPlainNll) {
  Seq2Seq model = small_model();
  const Batch b = two_pairs();
  // By hand: torch's label-smoothed cross entropy (mean over real tokens), backward, SGD.
  auto copy = std::dynamic_pointer_cast<Seq2SeqImpl>(model->clone());
  const at::Tensor logp = copy->forward(b.src, decoder_input(b));
  namespace F = torch::nn::functional;
  const at::Tensor objective =
      F::cross_entropy(logp.reshape({-1, kVocab}), b.tgt.reshape(-1),
                       F::CrossEntropyFuncOptions().ignore_index(kPadId).label_smoothing(0.2));
  const double nll =
      at::nll_loss(logp.reshape({-1, kVocab}), b.tgt.reshape(-1), {}, at::Reduction::Mean, kPadId)
          .item<double>();
  objective.backward();
  std::vector<at::Tensor> expected;
  for (const auto& p : copy->parameters()) expected.push_back((p - 0.5 * p.grad()).detach());

  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.5));
  Tally tally;
  StepOptions options;
  options.label_smoothing = 0.2;
  const StepResult r = train_step(model, sgd, b, options, tally);
  expect_params(model, expected, 1e-6);
  EXPECT_NEAR(r.loss, nll, 1e-6);  // the reported loss is the plain NLL...
  EXPECT_NEAR(tally.loss(), nll, 1e-6);
  EXPECT_GT(std::abs(objective.item<double>() - nll), 1e-3);  // ...which differs from the objective
}

TEST(TrainStep, ClipsTheGradientNorm) {
  Seq2Seq model = small_model();
  const Batch b = two_pairs();
  double loss = 0;
  const auto expected = expected_update(model, b, 1.0, 1e-3, &loss);
  const auto before = params_of(model);
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(1.0));
  Tally tally;
  train_step(model, sgd, b, {1.0, 1e-3}, tally);
  expect_params(model, expected, 1e-7);
  // With lr 1 the update is the clipped gradient: its norm is the clip.
  double squared = 0;
  const auto after = params_of(model);
  for (size_t i = 0; i < after.size(); ++i)
    squared += (after[i] - before[i]).pow(2).sum().item<double>();
  EXPECT_NEAR(std::sqrt(squared), 1e-3, 1e-6);
}

TEST(TrainStep, ANonFiniteLossChangesNothing) {
  Seq2Seq model = small_model();
  {
    torch::NoGradGuard no_grad;
    model->out->weight[0][0].fill_(std::numeric_limits<float>::quiet_NaN());
  }
  const auto before = params_of(model);
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.5));
  Tally tally;
  const StepResult r = train_step(model, sgd, two_pairs(), {1.0, 5.0}, tally);
  EXPECT_FALSE(r.finite);
  EXPECT_TRUE(std::isnan(r.loss));
  EXPECT_EQ(tally.seqs, 0);
  const auto after = params_of(model);
  for (size_t i = 0; i < after.size(); ++i)
    EXPECT_TRUE(at::equal(after[i].nan_to_num(), before[i].nan_to_num())) << "parameter " << i;
}

TEST(TrainStep, ReportsWhereTheTimeWentWhenAsked) {
  Seq2Seq model = small_model();
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.1));
  Tally tally;
  StepPhaseTimes times;
  train_step(model, sgd, two_pairs(), {}, tally, &times);
  EXPECT_GT(times.forward_ms, 0);
  EXPECT_GT(times.backward_ms, 0);
  EXPECT_GT(times.optimizer_ms, 0);
}

}  // namespace
}  // namespace s2s
