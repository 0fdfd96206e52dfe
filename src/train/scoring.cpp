#include "train/scoring.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/loss.h>

namespace s2s {

void tally_batch(Tally& tally, double loss_sum, const at::Tensor& pred, const at::Tensor& tgt,
                 const at::Tensor& mask) {
  const int64_t steps = tgt.size(0);
  at::Tensor p = pred;
  if (p.size(0) < steps) {
    // Missing steps never match: -1 is no token id.
    p = at::cat({p, at::full({steps - p.size(0), p.size(1)}, -1, p.options())});
  } else if (p.size(0) > steps) {
    p = p.slice(0, 0, steps);
  }
  const at::Tensor right = (p == tgt).logical_and(mask);
  tally.loss_sum += loss_sum;
  tally.tokens += mask.sum().item<int64_t>();
  tally.correct_tokens += right.sum().item<int64_t>();
  tally.seqs += tgt.size(1);
  tally.correct_seqs += right.logical_or(mask.logical_not()).all(0).sum().item<int64_t>();
}

at::Tensor summed_nll(const at::Tensor& logp, const at::Tensor& tgt) {
  return at::nll_loss(logp.reshape({-1, logp.size(-1)}), tgt.reshape(-1), {}, at::Reduction::Sum,
                      kPadId);
}

at::Tensor smoothed_loss_sum(const at::Tensor& logp, const at::Tensor& tgt,
                             const at::Tensor& nll_sum, double label_smoothing) {
  if (label_smoothing == 0) return nll_sum;
  const at::Tensor real = tgt.ne(kPadId).unsqueeze(-1).to(logp.scalar_type());
  const at::Tensor uniform_sum = -(logp * real).sum() / static_cast<double>(logp.size(-1));
  return nll_sum * (1 - label_smoothing) + uniform_sum * label_smoothing;
}

Tally evaluate(Seq2Seq& model, const DataLoader& loader, int rank, int world) {
  const bool was_training = model->is_training();
  model->eval();
  at::NoGradGuard no_grad;
  Tally tally;
  const auto plan = loader.plan(0);
  for (size_t i = static_cast<size_t>(rank); i < plan.size(); i += static_cast<size_t>(world)) {
    const Batch batch = loader.batch(plan[i]);
    // The loss with teacher forcing, the predictions free-running; one encoding for both, and
    // only the columns teacher forcing gets wrong decoded (the others' greedy output is tgt).
    const auto [logp, pred] = model->score_and_greedy(
        batch.src, decoder_input(batch), batch.tgt.size(0), batch.src_lengths, batch.tgt);
    const double loss = summed_nll(logp, batch.tgt).item<double>();
    tally_batch(tally, loss, pred, batch.tgt, batch.tgt_mask);
  }
  model->train(was_training);
  return tally;
}

}  // namespace s2s
