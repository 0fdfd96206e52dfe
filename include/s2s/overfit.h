// Which epoch was best, and when did a run start to overfit? The two rules every part of s2s
// uses: the trainer (best.pt, early stopping's summary), the dashboard's markers, `s2s plot`
// and the experiment report.
//
// When did a run start to overfit? The course reads it off the curves: the epoch after which
// the validation loss only goes up while the training loss keeps going down. This is that rule,
// made exact, and the only one: training's summary.json, the dashboard's marker and the
// experiment report all call overfitting_epoch().
#pragma once

#include <optional>
#include <vector>

namespace s2s {

struct LossPoint {
  int epoch = 0;
  double train_loss = 0;
  double valid_loss = 0;
};

struct OverfitRule {
  // Epochs after the lowest validation loss needed before calling it (early stopping's patience).
  int patience = 10;
  // The validation loss over the last `patience` epochs (their median, robust to one noisy
  // epoch) must exceed the minimum by this fraction of it...
  double min_rise = 0.10;
  // ...and by this much in absolute terms (nats per token), so a loss of 0.001 drifting to
  // 0.0012 is noise, not overfitting.
  double min_rise_abs = 0.002;
};

// The overfitting epoch: the epoch of the lowest validation loss, if at least `patience` epochs
// follow it, the validation loss rose clearly since (see OverfitRule) and the training loss is
// lower at the end than at that epoch (still fitting the training set, no longer generalizing).
// Otherwise none: still improving, on a plateau, or too few epochs to tell. Epochs whose
// validation loss is not finite are ignored.
std::optional<int> overfitting_epoch(const std::vector<LossPoint>& points,
                                     const OverfitRule& rule = {});

// The best epoch is the one with the highest validation exact match (what users of the model
// care about); ties go to the lower validation loss (the more confident model), and a full tie
// to the earlier epoch (the checkpoint written first). True if `candidate` beats `incumbent`.
struct EpochScore {
  double valid_seq_acc = 0;
  double valid_loss = 0;
};
bool better_epoch(const EpochScore& candidate, const EpochScore& incumbent);

}  // namespace s2s
