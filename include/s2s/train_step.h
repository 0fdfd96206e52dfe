// One optimizer step of training: the unit `s2s train` repeats and `s2s_bench` times, so the
// bench measures exactly what users run.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "s2s/dataset.h"
#include "s2s/metrics.h"
#include "s2s/seq2seq.h"

namespace torch::optim {
class Optimizer;
}

namespace s2s {

struct StepOptions {
  double teacher_forcing = 1.0;  // probability of feeding the true previous token
  double clip = 0;               // max gradient norm; 0: no clipping
  double label_smoothing = 0;    // see TrainConfig::label_smoothing
};

// Data parallelism's hooks (src/train/data_parallel.h). Empty: one process.
struct GradientSync {
  // Called before the backward pass of the step's last batch (`accumulated`: earlier batches
  // of the step left gradients), so that pass's gradients may start their all-reduce while
  // the rest of backward runs. Optional.
  std::function<void(bool accumulated)> before_last_backward;
  // Called once per step after backward and before clipping, also when this rank's loss was
  // not finite (then without backward): averages the gradients over the ranks and returns
  // whether every rank's loss was finite.
  std::function<bool(bool finite)> after_backward;

  explicit operator bool() const { return static_cast<bool>(after_backward); }
};

// Where a step's wall time went (filled only when asked for: the bench's breakdown).
struct StepPhaseTimes {
  double forward_ms = 0;    // forward pass and loss
  double backward_ms = 0;   // backward pass and clipping
  double optimizer_ms = 0;  // optimizer step and tally
};

struct StepResult {
  double loss = 0;     // NLL per real target token (what NLLLoss ignoring <pad> gives)
  int64_t tokens = 0;  // real target tokens in the batch (<eos> included)
  bool finite = true;  // false: the loss was NaN/inf, and nothing after the forward pass ran
};

// Forward with teacher forcing, NLL over the real target tokens, backward, gradient clipping,
// the optimizer's step, and the batch added to `tally` (loss, token and sequence accuracy of
// the teacher-forced predictions). A non-finite loss stops before backward: no update, the
// tally untouched, so the caller can keep its last good state.
StepResult train_step(Seq2Seq& model, torch::optim::Optimizer& optimizer, const Batch& batch,
                      const StepOptions& options, Tally& tally, StepPhaseTimes* times = nullptr);

// The same step with gradient accumulation (--accumulate): forward and backward of each batch
// in turn, gradients summed with weight 1/n (the mean of the batches' losses, which the result's
// loss is), then `sync_gradients` (if any), clip and one optimizer step. One batch is exactly
// train_step above.
StepResult train_step(Seq2Seq& model, torch::optim::Optimizer& optimizer,
                      const std::vector<Batch>& batches, const StepOptions& options, Tally& tally,
                      StepPhaseTimes* times = nullptr, const GradientSync& sync_gradients = {});

}  // namespace s2s
