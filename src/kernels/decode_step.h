// One decoder time step over all layers, for greedy decoding and beam search: weights converted
// once (cached across calls while unchanged), buffers allocated up front, and the state
// ping-pongs between two buffers, so a step allocates nothing. Two implementations:
//   OneDNN: oneDNN's fused inference primitives, every layer in as few calls as they allow;
//   Gemm:   per layer two oneDNN matrix products (x W_ih^T, h W_hh^T) and our gate loop, as
//           gemm_rnn's forward: the products run at the machine's matmul ceiling from a few
//           dozen rows up, where oneDNN's bf16 GRU primitive reaches ~70% of it.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <memory>

#include "s2s/cell.h"

namespace s2s::kernels {

enum class StepKernels { OneDNN, Gemm };

class DecodeStep {
 public:
  // params as for onednn_rnn (PyTorch layout), f32; batch fixed for the object's life. input(),
  // run()'s result and h()/c() are f32 in either precision. In BF16, OneDNN runs the layers on
  // bf16 weights and states (the LSTM cell state f32) and throws s2s::Error if this CPU has no
  // oneDNN bf16 RNN; Gemm rounds the products' operands only (weights, inputs, states) and keeps
  // the states and gate arithmetic f32, as gemm_rnn.
  // With an embedding [V, I] (f32), the step reads token ids from tokens() instead of vectors
  // from input(): OneDNN looks their rows up, Gemm reads the first layer's input projections
  // from a table of them per vocabulary entry (embedding W_ih^T + b_ih, f32, cached with the
  // weights) where V is at most kMaxTableRows, as gemm_rnn_tokens: one product per layer less.
  DecodeStep(Cell cell, at::TensorList params, int64_t num_layers, int64_t batch,
             Precision precision = Precision::F32, StepKernels kernels = StepKernels::OneDNN,
             const at::Tensor& embedding = {});
  ~DecodeStep();
  DecodeStep(const DecodeStep&) = delete;
  DecodeStep& operator=(const DecodeStep&) = delete;

  // Copies the initial state in ([L, B, H]; c only for LSTM).
  void set_state(const at::Tensor& h, const at::Tensor& c);
  // The [B, I] buffer the next step reads: fill it in place (e.g. index_select_out). Without
  // an embedding only.
  at::Tensor& input();
  // The [B] int64 token ids the next step reads: fill them in place (e.g. argmax_out). With an
  // embedding only; run() throws s2s::Error on an id outside it.
  at::Tensor& tokens();
  static constexpr int64_t kMaxTableRows = 4096;
  // Runs every layer for one step; returns the top layer's output [1, B, H] (a buffer that a
  // later call overwrites: copy what you keep).
  const at::Tensor& run();
  // The current state [L, B, H] (views of internal buffers, or f32 copies of bf16 ones).
  at::Tensor h() const;
  at::Tensor c() const;

  // What an implementation provides (decode_step.cpp, gemm_decode_step.cpp).
  struct Impl {
    virtual ~Impl() = default;
    virtual void set_state(const at::Tensor& h, const at::Tensor& c) = 0;
    virtual at::Tensor& input() = 0;
    virtual at::Tensor& tokens() = 0;
    virtual const at::Tensor& run() = 0;
    virtual at::Tensor h() const = 0;
    virtual at::Tensor c() const = 0;
  };

 private:
  std::unique_ptr<Impl> impl_;
};

// Throws s2s::Error unless every id in ids [B] int64 is in 0..vocabulary-1.
void check_token_ids(const at::Tensor& ids, int64_t vocabulary);

// The Gemm implementation (gemm_decode_step.cpp).
std::unique_ptr<DecodeStep::Impl> gemm_decode_step(Cell cell, at::TensorList params,
                                                   int64_t num_layers, int64_t batch,
                                                   Precision precision,
                                                   const at::Tensor& embedding);

}  // namespace s2s::kernels
