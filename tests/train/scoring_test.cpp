// The accuracy definitions (train/scoring.h) on batches small enough to check by hand: loss per
// real target token, token accuracy over real tokens, exact match ignoring padding.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <torch/nn/functional/loss.h>

#include "s2s/vocab.h"
#include "train/scoring.h"

namespace s2s {
namespace {

// [T, B] int64 from rows of columns: ids({{a0, b0}, {a1, b1}}) is a at column 0, b at 1.
at::Tensor ids(const std::vector<std::vector<int64_t>>& rows) {
  at::Tensor t = at::empty(
      {static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())}, at::kLong);
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < rows[i].size(); ++j) t[i][j] = rows[i][j];
  return t;
}

constexpr int64_t P = kPadId, E = kEosId;

// Column 0: "5 6 <eos>"; column 1: "7 <eos> <pad>" (one real token shorter).
const std::vector<std::vector<int64_t>> kTarget{{5, 7}, {6, E}, {E, P}};

TEST(TallyBatch, SequencesShorterThanTheBatchCountAsRightWhateverSitsInTheirPadding) {
  const at::Tensor tgt = ids(kTarget);
  const at::Tensor mask = tgt != P;
  Tally t;
  // Both right; column 1 predicts a real token (9) where its target is padding: that position
  // is not part of the sequence, so it neither counts as a token nor spoils the exact match.
  tally_batch(t, 1.5, ids({{5, 7}, {6, E}, {E, 9}}), tgt, mask);
  EXPECT_EQ(t.seqs, 2);
  EXPECT_EQ(t.correct_seqs, 2);
  EXPECT_EQ(t.tokens, 5);
  EXPECT_EQ(t.correct_tokens, 5);
  EXPECT_DOUBLE_EQ(t.loss_sum, 1.5);
  EXPECT_DOUBLE_EQ(t.loss(), 0.3);
  // The same with <pad> predicted in the padding.
  Tally padded;
  tally_batch(padded, 0, ids({{5, 7}, {6, E}, {E, P}}), tgt, mask);
  EXPECT_EQ(padded.correct_seqs, 2);
}

TEST(TallyBatch, OneWrongRealTokenLosesTheSequenceButNotTheOtherTokens) {
  const at::Tensor tgt = ids(kTarget);
  Tally t;
  tally_batch(t, 0, ids({{5, 7}, {4, E}, {E, P}}), tgt, tgt != P);
  EXPECT_EQ(t.correct_seqs, 1);  // column 1 only
  EXPECT_EQ(t.correct_tokens, 4);
  EXPECT_DOUBLE_EQ(t.token_acc(), 0.8);
  EXPECT_DOUBLE_EQ(t.seq_acc(), 0.5);
  // A missing <eos> is a wrong token too.
  Tally no_eos;
  tally_batch(no_eos, 0, ids({{5, 7}, {6, 3}, {E, P}}), tgt, tgt != P);
  EXPECT_EQ(no_eos.correct_seqs, 1);
  EXPECT_EQ(no_eos.correct_tokens, 4);
}

TEST(TallyBatch, PredictionsShorterOrLongerThanTheTarget) {
  const at::Tensor tgt = ids(kTarget);
  Tally shorter;  // two steps decoded: column 0's <eos> is missing, column 1 is complete
  tally_batch(shorter, 0, ids({{5, 7}, {6, E}}), tgt, tgt != P);
  EXPECT_EQ(shorter.correct_seqs, 1);
  EXPECT_EQ(shorter.correct_tokens, 4);
  Tally longer;  // steps past the target's length are not scored
  tally_batch(longer, 0, ids({{5, 7}, {6, E}, {E, P}, {8, 8}}), tgt, tgt != P);
  EXPECT_EQ(longer.correct_seqs, 2);
  EXPECT_EQ(longer.correct_tokens, 5);
}

TEST(TallyBatch, AddsUpOverBatches) {
  const at::Tensor tgt = ids(kTarget);
  Tally t;
  tally_batch(t, 1.0, ids({{5, 7}, {6, E}, {E, P}}), tgt, tgt != P);
  tally_batch(t, 2.0, ids({{1, 1}, {1, 1}, {1, 1}}), tgt, tgt != P);
  EXPECT_EQ(t.seqs, 4);
  EXPECT_EQ(t.correct_seqs, 2);
  EXPECT_EQ(t.tokens, 10);
  EXPECT_EQ(t.correct_tokens, 5);
  EXPECT_DOUBLE_EQ(t.loss(), 0.3);
}

TEST(SummedNll, SumsMinusLogProbabilityOfEachRealTargetTokenAndSkipsPadding) {
  at::manual_seed(3);
  const at::Tensor logp = at::log_softmax(at::randn({3, 2, 10}, at::kDouble), -1);
  const at::Tensor tgt = ids(kTarget);
  double expected = 0;
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t b = 0; b < 2; ++b) {
      const int64_t id = tgt[t][b].item<int64_t>();
      if (id != P) expected -= logp[t][b][id].item<double>();
    }
  EXPECT_NEAR(summed_nll(logp, tgt).item<double>(), expected, 1e-12);
  // Padding is skipped whatever probability the model gives it.
  at::Tensor changed = logp.clone();
  changed[2][1].fill_(-50.0);
  EXPECT_NEAR(summed_nll(changed, tgt).item<double>(), expected, 1e-12);
}

TEST(SmoothedLossSum, IsTorchsLabelSmoothedCrossEntropyAndItsGradient) {
  at::manual_seed(4);
  const at::Tensor logits = at::randn({3, 2, 10}, at::kDouble);
  const at::Tensor tgt = ids(kTarget);
  for (const double e : {0.0, 0.1, 0.5}) {
    const at::Tensor ours_in = logits.clone().requires_grad_(true);
    const at::Tensor logp = at::log_softmax(ours_in, -1);
    const at::Tensor ours = smoothed_loss_sum(logp, tgt, summed_nll(logp, tgt), e);
    ours.backward();
    const at::Tensor ref_in = logits.clone().requires_grad_(true);
    namespace F = torch::nn::functional;
    const at::Tensor ref = F::cross_entropy(
        ref_in.reshape({-1, 10}), tgt.reshape(-1),
        F::CrossEntropyFuncOptions().ignore_index(P).label_smoothing(e).reduction(torch::kSum));
    ref.backward();
    EXPECT_NEAR(ours.item<double>(), ref.item<double>(), 1e-12) << "e = " << e;
    EXPECT_TRUE(at::allclose(ours_in.grad(), ref_in.grad(), 0, 1e-12)) << "e = " << e;
  }
  // Padding positions take no part, whatever the model gives them.
  const at::Tensor logp = at::log_softmax(logits, -1);
  at::Tensor changed = logp.clone();
  changed[2][1].fill_(-50.0);
  EXPECT_NEAR(smoothed_loss_sum(changed, tgt, summed_nll(changed, tgt), 0.1).item<double>(),
              smoothed_loss_sum(logp, tgt, summed_nll(logp, tgt), 0.1).item<double>(), 1e-12);
}

}  // namespace
}  // namespace s2s
