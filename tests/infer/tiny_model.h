// A tiny Seq2Seq trained for a moment on reversal: a fresh model's predictions are degenerate
// (one token repeated, rarely <eos>), a briefly trained one's vary with the input and end at
// varied lengths, like a real model's. Deterministic: same arguments, same weights.
#pragma once

#include <torch/torch.h>

#include "s2s/seq2seq.h"

namespace s2s::test {

inline Seq2Seq trained_tiny_model(int64_t vocab, RnnImpl impl = RnnImpl::OneDNN, uint64_t seed = 5,
                                  int64_t steps = 40) {
  torch::manual_seed(static_cast<int64_t>(seed));
  Seq2Seq model(Seq2SeqOptions(vocab).hidden(16).layers(2).dropout(0).impl(impl));
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(0.02));
  constexpr int64_t kBatch = 32, kMaxLength = 6;
  for (int64_t step = 0; step < steps; ++step) {
    // Sources of kNumSpecialTokens..vocab-1, lengths 1..kMaxLength, <eos> then <pad>.
    const at::Tensor lengths = at::randint(1, kMaxLength + 1, {kBatch}, at::kLong);
    at::Tensor src = at::full({kMaxLength + 1, kBatch}, kPadId, at::kLong);
    at::Tensor tgt = at::full({kMaxLength + 1, kBatch}, kPadId, at::kLong);
    const at::Tensor tokens =
        at::randint(kNumSpecialTokens, vocab, {kMaxLength, kBatch}, at::kLong);
    for (int64_t b = 0; b < kBatch; ++b) {
      const int64_t n = lengths[b].item<int64_t>();
      for (int64_t t = 0; t < n; ++t) {
        src[t][b] = tokens[t][b];
        tgt[t][b] = tokens[n - 1 - t][b];
      }
      src[n][b] = kEosId;
      tgt[n][b] = kEosId;
    }
    const at::Tensor tgt_in =
        at::cat({at::full({1, kBatch}, kSosId, at::kLong), tgt.narrow(0, 0, kMaxLength)});
    const at::Tensor logp = model->forward(src, tgt_in);
    const at::Tensor loss =
        at::nll_loss(logp.reshape({-1, vocab}), tgt.reshape(-1), {}, at::Reduction::Mean, kPadId);
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  model->eval();
  return model;
}

}  // namespace s2s::test
