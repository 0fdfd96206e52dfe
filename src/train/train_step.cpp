#include "s2s/train_step.h"

#include <ATen/ATen.h>
#include <torch/types.h>  // clip_grad.h uses torch::Tensor without including it

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/optimizer.h>

#include <chrono>
#include <cmath>
#include <vector>

#include "s2s/fused_adam.h"
#include "train/scoring.h"

namespace s2s {
namespace {

using Clock = std::chrono::steady_clock;

// Adds the milliseconds since `start` to `*field` (when timing) and restarts the clock.
void lap(Clock::time_point& start, double StepPhaseTimes::*field, StepPhaseTimes* times) {
  if (!times) return;
  const auto now = Clock::now();
  times->*field += std::chrono::duration<double, std::milli>(now - start).count();
  start = now;
}

// Gradients dropped rather than zeroed: the first backward then hands its gradient tensors to
// the parameters (autograd's AccumulateGrad keeps them) instead of adding them to zeros, a fill
// and an add over every parameter saved.
void drop_gradients(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups()) {
    for (auto& p : group.params()) p.mutable_grad() = at::Tensor();
  }
}

// Clipping by the global gradient norm: FusedAdam folds the scale into its update; any other
// optimizer gets torch's clip_grad_norm_ (a norm per parameter, then a multiply of each).
void clip_gradients(torch::optim::Optimizer& optimizer, const std::vector<at::Tensor>& params,
                    double max_norm) {
  if (auto* fused = dynamic_cast<FusedAdam*>(&optimizer)) {
    fused->clip_grad_norm(max_norm);
  } else {
    torch::nn::utils::clip_grad_norm_(params, max_norm);
  }
}

}  // namespace

StepResult train_step(Seq2Seq& model, torch::optim::Optimizer& optimizer, const Batch& batch,
                      const StepOptions& options, Tally& tally, StepPhaseTimes* times) {
  return train_step(model, optimizer, std::vector<Batch>{batch}, options, tally, times);
}

StepResult train_step(Seq2Seq& model, torch::optim::Optimizer& optimizer,
                      const std::vector<Batch>& batches, const StepOptions& options, Tally& tally,
                      StepPhaseTimes* times, const GradientSync& sync_gradients) {
  auto clock = Clock::now();
  drop_gradients(optimizer);  // optimizer.zero_grad(set_to_none=True), as PyTorch 2 defaults to
  StepResult result;
  Tally step_tally;  // added to `tally` only once the step is taken
  const double share = 1.0 / static_cast<double>(batches.size());
  for (const Batch& batch : batches) {
    const at::Tensor logp =
        model->forward(batch.src, decoder_input(batch), options.teacher_forcing, batch.src_lengths);
    const at::Tensor loss_sum = summed_nll(logp, batch.tgt);
    const int64_t tokens = batch.tgt_mask.sum().item<int64_t>();
    const double denominator = static_cast<double>(std::max<int64_t>(tokens, 1));
    // What backward minimises; what is reported (result.loss, the tally) stays plain NLL.
    const bool smoothing = options.label_smoothing != 0;
    const at::Tensor nll = loss_sum / denominator;
    const at::Tensor loss =
        smoothing
            ? smoothed_loss_sum(logp, batch.tgt, loss_sum, options.label_smoothing) / denominator
            : nll;
    const double value = nll.item<double>();
    result.tokens += tokens;
    result.loss += value * share;
    lap(clock, &StepPhaseTimes::forward_ms, times);
    if (!std::isfinite(value) || (smoothing && !std::isfinite(loss.item<double>()))) {
      result.loss = value;
      result.finite = false;
      break;
    }
    if (&batch == &batches.back() && sync_gradients.before_last_backward) {
      sync_gradients.before_last_backward(batches.size() > 1);
    }
    if (batches.size() == 1) {
      loss.backward();
    } else {
      (loss * share).backward();
    }
    lap(clock, &StepPhaseTimes::backward_ms, times);
    at::NoGradGuard no_grad;
    tally_batch(step_tally, loss_sum.item<double>(), logp.argmax(-1), batch.tgt, batch.tgt_mask);
    lap(clock, &StepPhaseTimes::optimizer_ms, times);
  }
  // Every rank takes part in the sync, also one whose loss was not finite, so that all of them
  // learn it and skip the step together.
  if (sync_gradients && !sync_gradients.after_backward(result.finite)) result.finite = false;
  if (!result.finite) return result;
  if (options.clip > 0) clip_gradients(optimizer, model->parameters(), options.clip);
  lap(clock, &StepPhaseTimes::backward_ms, times);

  optimizer.step();
  tally.loss_sum += step_tally.loss_sum;
  tally.tokens += step_tally.tokens;
  tally.correct_tokens += step_tally.correct_tokens;
  tally.seqs += step_tally.seqs;
  tally.correct_seqs += step_tally.correct_seqs;
  lap(clock, &StepPhaseTimes::optimizer_ms, times);
  return result;
}

}  // namespace s2s
