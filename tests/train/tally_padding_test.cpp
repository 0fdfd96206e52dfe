// How tally_batch and summed_nll treat padding, on a batch small enough to count by hand: the
// definitions behind every accuracy s2s reports. Issue 16: exact match counting padded positions
// (`right.all(0)` without the mask) survived the whole suite; these tests fail for it.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <vector>

#include "s2s/vocab.h"
#include "train/scoring.h"

namespace s2s {
namespace {

// A [T, B] int64 tensor from its rows (one row per time step, one column per sequence).
at::Tensor steps(const std::vector<std::vector<int64_t>>& rows) {
  at::Tensor t = at::empty(
      {static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())}, at::kLong);
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < rows[i].size(); ++j) t[i][j] = rows[i][j];
  return t;
}

// Sequence 0 is "4 5 <eos>", sequence 1 "6 <eos>" padded to the batch's 3 steps.
const at::Tensor& target() {
  static const at::Tensor t = steps({{4, 6}, {5, kEosId}, {kEosId, kPadId}});
  return t;
}

TEST(TallyBatchPadding, ExactMatchIgnoresWhatIsPredictedInThePadding) {
  const at::Tensor mask = target() != kPadId;
  Tally t;
  // Both sequences right; sequence 1 predicts 9 where it has padding.
  tally_batch(t, 0.0, steps({{4, 6}, {5, kEosId}, {kEosId, 9}}), target(), mask);
  EXPECT_EQ(t.seqs, 2);
  EXPECT_EQ(t.correct_seqs, 2);
  EXPECT_EQ(t.tokens, 5);  // 3 + 2 real tokens, <eos> included, padding not
  EXPECT_EQ(t.correct_tokens, 5);
  // One wrong real token loses its sequence only.
  Tally wrong;
  tally_batch(wrong, 0.0, steps({{4, 6}, {7, kEosId}, {kEosId, kPadId}}), target(), mask);
  EXPECT_EQ(wrong.correct_seqs, 1);
  EXPECT_EQ(wrong.correct_tokens, 4);
}

TEST(TallyBatchPadding, PaddingPredictedAsPadIsNotACorrectToken) {
  Tally t;
  tally_batch(t, 10.0, steps({{4, 6}, {5, kEosId}, {kEosId, kPadId}}), target(),
              target() != kPadId);
  EXPECT_EQ(t.tokens, 5);
  EXPECT_EQ(t.correct_tokens, 5);   // not 6: the padded position is no token
  EXPECT_DOUBLE_EQ(t.loss(), 2.0);  // the loss sum over 5 real tokens
  EXPECT_DOUBLE_EQ(t.seq_acc(), 1.0);
}

TEST(TallyBatchPadding, OnlyTheTargetsStepsOfALongerPredictionAreScored) {
  Tally t;
  // A fourth predicted step (beyond the target) is ignored; the first three are scored.
  tally_batch(t, 0.0, steps({{4, 6}, {5, kEosId}, {kEosId, kPadId}, {8, 8}}), target(),
              target() != kPadId);
  EXPECT_EQ(t.correct_seqs, 2);
  EXPECT_EQ(t.correct_tokens, 5);
}

TEST(SummedNllPadding, SumsOverRealTargetTokensOnly) {
  // log-probabilities [T=3, B=2, V=10] that differ at every position.
  const at::Tensor logp =
      at::log_softmax(at::arange(60, at::kDouble).reshape({3, 2, 10}).sin(), -1);
  double expected = 0;
  for (int64_t s = 0; s < 3; ++s)
    for (int64_t b = 0; b < 2; ++b) {
      const int64_t id = target()[s][b].item<int64_t>();
      if (id != kPadId) expected -= logp[s][b][id].item<double>();
    }
  EXPECT_NEAR(summed_nll(logp, target()).item<double>(), expected, 1e-12);
}

}  // namespace
}  // namespace s2s
