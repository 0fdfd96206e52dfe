// Exponential smoothing of the weights (an exponential moving average of them, Polyak averaging;
// Marian's --exponential-smoothing): beside the weights the optimizer trains, a copy that after
// every step moves a fraction of the way towards them, so that it averages out the noise of the
// last ~1/factor steps. The trainer validates and saves the smoothed copy
// (TrainConfig::ema_epochs). Private to src/train/.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace s2s {

class WeightSmoothing {
 public:
  // `params`: the trained weights (the model's parameters, f32 and contiguous); the smoothed
  // copy starts as their values now. `factor` in (0, 1].
  WeightSmoothing(std::vector<at::Tensor> params, double factor);

  // The fraction update(step) moves by: max(factor, 1 / (step + 1)). Until step 1/factor - 1
  // the smoothed copy is thus the plain mean of the weights so far, since otherwise the first
  // weights, an untrained model's, would weigh in for hundreds of steps.
  double rate(int64_t step) const;
  // After optimizer step `step` (1-based, counted over the whole run, so that a resumed run
  // goes on alike): smoothed += rate(step) x (weights - smoothed). Not while swapped().
  void update(int64_t step);

  bool swapped() const { return swapped_; }  // the parameters hold the smoothed copy now
  // The smoothed copy, while !swapped(); the trained weights (set aside), while swapped().
  const std::vector<at::Tensor>& smoothed() const;
  const std::vector<at::Tensor>& trained() const;

 private:
  friend class SmoothedWeights;
  void swap_in();   // trained -> set aside, smoothed -> parameters
  void swap_out();  // the trained weights back into the parameters

  std::vector<at::Tensor> params_, smoothed_, trained_;
  double factor_;
  bool swapped_ = false;
};

// While it lives, the parameters hold the smoothed weights (for validation and checkpoints);
// after it, the trained ones again, exactly. An inner guard, or one of no smoothing, does
// nothing.
class SmoothedWeights {
 public:
  explicit SmoothedWeights(WeightSmoothing* smoothing);
  ~SmoothedWeights();
  SmoothedWeights(const SmoothedWeights&) = delete;
  SmoothedWeights& operator=(const SmoothedWeights&) = delete;

 private:
  WeightSmoothing* owner_ = nullptr;  // the smoothing this guard swapped in, if it did
};

}  // namespace s2s
