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
  DecodeStep(Cell cell, at::TensorList params, int64_t num_layers, int64_t batch,
             Precision precision = Precision::F32, StepKernels kernels = StepKernels::OneDNN);
  ~DecodeStep();
  DecodeStep(const DecodeStep&) = delete;
  DecodeStep& operator=(const DecodeStep&) = delete;

  // Copies the initial state in ([L, B, H]; c only for LSTM).
  void set_state(const at::Tensor& h, const at::Tensor& c);
  // The [B, I] buffer the next step reads: fill it in place (e.g. index_select_out).
  at::Tensor& input();
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
    virtual const at::Tensor& run() = 0;
    virtual at::Tensor h() const = 0;
    virtual at::Tensor c() const = 0;
  };

 private:
  std::unique_ptr<Impl> impl_;
};

// The Gemm implementation (gemm_decode_step.cpp).
std::unique_ptr<DecodeStep::Impl> gemm_decode_step(Cell cell, at::TensorList params,
                                                   int64_t num_layers, int64_t batch,
                                                   Precision precision);

}  // namespace s2s::kernels
