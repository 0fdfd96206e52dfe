#include "s2s/train_step.h"

#include <ATen/ATen.h>
#include <torch/types.h>  // clip_grad.h uses torch::Tensor without including it

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/optimizer.h>

#include <chrono>
#include <cmath>

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

}  // namespace

StepResult train_step(Seq2Seq& model, torch::optim::Optimizer& optimizer, const Batch& batch,
                      const StepOptions& options, Tally& tally, StepPhaseTimes* times) {
  auto clock = Clock::now();
  optimizer.zero_grad();
  const at::Tensor logp = model->forward(batch.src, decoder_input(batch), options.teacher_forcing);
  const at::Tensor loss_sum = summed_nll(logp, batch.tgt);
  StepResult result;
  result.tokens = batch.tgt_mask.sum().item<int64_t>();
  const at::Tensor loss = loss_sum / static_cast<double>(std::max<int64_t>(result.tokens, 1));
  result.loss = loss.item<double>();
  result.finite = std::isfinite(result.loss);
  lap(clock, &StepPhaseTimes::forward_ms, times);
  if (!result.finite) return result;

  loss.backward();
  if (options.clip > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), options.clip);
  lap(clock, &StepPhaseTimes::backward_ms, times);

  optimizer.step();
  {
    at::NoGradGuard no_grad;
    tally_batch(tally, loss_sum.item<double>(), logp.argmax(-1), batch.tgt, batch.tgt_mask);
  }
  lap(clock, &StepPhaseTimes::optimizer_ms, times);
  return result;
}

}  // namespace s2s
