// The overfitting-epoch rule on synthetic curves whose answer is known.
#include <gtest/gtest.h>

#include <cmath>

#include "s2s/overfit.h"

namespace s2s {
namespace {

// Valid loss falls linearly to `low` at epoch `min_epoch`, then rises by `rise` per epoch;
// train loss keeps falling.
std::vector<LossPoint> u_curve(int epochs, int min_epoch, double low, double rise) {
  std::vector<LossPoint> p;
  for (int e = 1; e <= epochs; ++e) {
    const double valid =
        e <= min_epoch ? 1.0 - (1.0 - low) * e / min_epoch : low + rise * (e - min_epoch);
    p.push_back({e, std::pow(0.9, e), valid});
  }
  return p;
}

TEST(Overfit, FindsTheEpochOfLowestValidationLossOnceItClearlyRose) {
  EXPECT_EQ(overfitting_epoch(u_curve(22, 12, 0.2, 0.02)), 12);
  EXPECT_EQ(overfitting_epoch(u_curve(60, 35, 0.5, 0.01)), 35);
}

TEST(Overfit, NeedsPatienceEpochsAfterTheMinimum) {
  // 9 epochs after the minimum: too early to call.
  EXPECT_EQ(overfitting_epoch(u_curve(21, 12, 0.2, 0.02)), std::nullopt);
  OverfitRule short_rule;
  short_rule.patience = 5;
  EXPECT_EQ(overfitting_epoch(u_curve(21, 12, 0.2, 0.02), short_rule), 12);
}

TEST(Overfit, StillFallingIsNotOverfitting) {
  std::vector<LossPoint> p;
  for (int e = 1; e <= 50; ++e) p.push_back({e, std::pow(0.9, e), std::pow(0.95, e)});
  EXPECT_EQ(overfitting_epoch(p), std::nullopt);
}

TEST(Overfit, APlateauWithNoiseIsNotOverfitting) {
  // Minimum at epoch 20, then +-3% noise around it: no clear rise.
  std::vector<LossPoint> p = u_curve(20, 20, 0.3, 0);
  for (int e = 21; e <= 40; ++e) p.push_back({e, 0.01, 0.3 * (e % 2 == 0 ? 1.03 : 1.01)});
  EXPECT_EQ(overfitting_epoch(p), std::nullopt);
}

TEST(Overfit, TinyAbsoluteRisesAreNoise) {
  // 0.001 -> 0.0015 is +50%, but 0.0005 nats is below the absolute threshold.
  std::vector<LossPoint> p = u_curve(15, 15, 0.001, 0);
  for (int e = 16; e <= 30; ++e) p.push_back({e, 0.0001, 0.0015});
  EXPECT_EQ(overfitting_epoch(p), std::nullopt);
}

TEST(Overfit, OneSpikeDoesNotMakeARiseButASustainedRiseDoes) {
  std::vector<LossPoint> spike = u_curve(10, 10, 0.2, 0);
  for (int e = 11; e <= 20; ++e) spike.push_back({e, 0.01, e == 15 ? 5.0 : 0.205});
  EXPECT_EQ(overfitting_epoch(spike), std::nullopt);  // the median ignores the spike
  std::vector<LossPoint> rise = u_curve(10, 10, 0.2, 0);
  for (int e = 11; e <= 20; ++e) rise.push_back({e, 0.01, 0.3});
  EXPECT_EQ(overfitting_epoch(rise), 10);
}

TEST(Overfit, TrainingLossThatStoppedFallingIsNotOverfitting) {
  // Both losses rise: divergence (e.g. too high a learning rate), not overfitting.
  std::vector<LossPoint> p = u_curve(22, 12, 0.2, 0.02);
  for (LossPoint& x : p) x.train_loss = x.valid_loss;
  EXPECT_EQ(overfitting_epoch(p), std::nullopt);
}

TEST(Overfit, TiesPickTheFirstMinimumAndEmptyIsNone) {
  std::vector<LossPoint> p = u_curve(10, 10, 0.2, 0);
  p.push_back({11, 0.01, 0.2});
  for (int e = 12; e <= 22; ++e) p.push_back({e, 0.01, 0.5});
  EXPECT_EQ(overfitting_epoch(p), 10);
  EXPECT_EQ(overfitting_epoch({}), std::nullopt);
}

TEST(Overfit, EpochsWithoutAFiniteValidationLossAreIgnored) {
  std::vector<LossPoint> p = u_curve(22, 12, 0.2, 0.02);
  p[0].valid_loss = NAN;   // a NaN first epoch must not pass for the minimum
  p[15].valid_loss = NAN;  // nor one inside the window
  EXPECT_EQ(overfitting_epoch(p), 12);
  EXPECT_EQ(overfitting_epoch({{1, 1.0, NAN}, {2, 0.9, NAN}}), std::nullopt);
}

}  // namespace
}  // namespace s2s
