// The course's encoder-decoder: embedding -> RnnStack encoder -> its final state initialises an
// RnnStack decoder -> linear -> log_softmax. Submodules are named as in the PyTorch reference
// model (enc_emb, enc, dec_emb, dec, out), so state_dicts are interchangeable with it.
#pragma once

#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include "s2s/rnn.h"
#include "s2s/vocab.h"  // kPadId, kSosId, kEosId

namespace s2s {

struct Seq2SeqOptions {
  explicit Seq2SeqOptions(int64_t vocab_size) : vocab_size_(vocab_size) {}
  TORCH_ARG(int64_t, vocab_size);
  TORCH_ARG(Cell, cell) = Cell::GRU;
  // Width of the embeddings and of every recurrent layer (the reference uses one width).
  TORCH_ARG(int64_t, hidden) = 256;
  TORCH_ARG(int64_t, layers) = 4;
  // Between stacked layers only; ignored (as in PyTorch) when layers == 1.
  TORCH_ARG(double, dropout) = 0.2;
  TORCH_ARG(RnnImpl, impl) = RnnImpl::OneDNN;
  // Arithmetic of both RNN stacks and of greedy decoding's fused step (see Precision).
  TORCH_ARG(Precision, precision) = Precision::F32;
};

class Seq2SeqImpl : public torch::nn::Cloneable<Seq2SeqImpl> {
 public:
  explicit Seq2SeqImpl(const Seq2SeqOptions& options);
  void reset() override;

  // src [S, B], tgt_in [T, B] (<sos> then the target shifted right), time-major ids.
  // Returns log-probabilities [T, B, V]. With teacher_forcing < 1, at each step the whole
  // batch feeds back its own previous prediction with probability 1 - teacher_forcing
  // (decided by torch's global generator, so seeded runs repeat).
  at::Tensor forward(const at::Tensor& src, const at::Tensor& tgt_in, double teacher_forcing = 1.0);

  RnnState encode(const at::Tensor& src);

  // Free-running greedy decoding, no gradients: [steps, B] ids. A sequence stops at its first
  // <eos> (later positions are <pad>); decoding ends when all have stopped or after max_len.
  // With RnnImpl::OneDNN and several threads, slices of the batch decode in parallel, one
  // thread each (the same tokens).
  at::Tensor greedy(const at::Tensor& src, int64_t max_len);

  Seq2SeqOptions options;
  torch::nn::Embedding enc_emb{nullptr};
  RnnStack enc{nullptr};
  torch::nn::Embedding dec_emb{nullptr};
  RnnStack dec{nullptr};
  torch::nn::Linear out{nullptr};

 private:
  bool fused_decoding() const;  // greedy decoding through kernels::DecodeStep
  at::Tensor greedy_rows(const at::Tensor& src, int64_t max_len);
};

TORCH_MODULE(Seq2Seq);

}  // namespace s2s
