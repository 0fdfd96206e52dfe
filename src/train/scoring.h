// Scoring batches into a Tally, and a whole pass of evaluation (private to the library).
#pragma once

#include <ATen/core/Tensor.h>

#include "s2s/dataset.h"
#include "s2s/metrics.h"
#include "s2s/seq2seq.h"

namespace s2s {

// Adds a batch: loss_sum is the NLL summed over real target tokens; pred [P, B] predicted ids
// (any length P: missing steps count as wrong, extra steps must be <pad> after <eos>);
// tgt [T, B] and mask [T, B] (true on real tokens, <eos> included).
void tally_batch(Tally& tally, double loss_sum, const at::Tensor& pred, const at::Tensor& tgt,
                 const at::Tensor& mask);

// NLL summed over non-pad targets of log-probs [T, B, V].
at::Tensor summed_nll(const at::Tensor& logp, const at::Tensor& tgt);

// The label-smoothed training objective summed over non-pad targets, given their summed NLL:
// (1 - e) x nll_sum + e x sum over those positions of -mean_v logp[v], torch's
// cross_entropy(label_smoothing = e, ignore_index = <pad>, reduction = sum). e = 0: nll_sum.
at::Tensor smoothed_loss_sum(const at::Tensor& logp, const at::Tensor& tgt,
                             const at::Tensor& nll_sum, double label_smoothing);

// Validation as the course does it: eval() mode, no gradients. Loss with teacher forcing;
// token and sequence accuracy from free-running greedy decoding (max length = the target's).
// With `world` > 1, only the batches i with i % world == rank (data parallelism's shard).
Tally evaluate(Seq2Seq& model, const DataLoader& loader, int rank = 0, int world = 1);

}  // namespace s2s
