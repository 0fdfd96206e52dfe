// One decoder time step over all layers, for greedy decoding: weights converted to oneDNN's
// format once (cached across calls while unchanged), primitives and buffers built up front, and
// the state ping-pongs between two buffers, so a step allocates nothing.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <memory>

#include "s2s/cell.h"

namespace s2s::kernels {

class DecodeStep {
 public:
  // params as for onednn_rnn (PyTorch layout), f32; batch fixed for the object's life. In BF16
  // the layers run on bf16 weights and states (the LSTM cell state stays f32), while input(),
  // run()'s result and h()/c() are f32 as in F32. Throws s2s::Error if this CPU has no oneDNN
  // bf16 RNN.
  DecodeStep(Cell cell, at::TensorList params, int64_t num_layers, int64_t batch,
             Precision precision = Precision::F32);
  ~DecodeStep();
  DecodeStep(const DecodeStep&) = delete;
  DecodeStep& operator=(const DecodeStep&) = delete;

  // Copies the initial state in ([L, B, H]; c only for LSTM).
  void set_state(const at::Tensor& h, const at::Tensor& c);
  // The [B, I] buffer the next step reads: fill it in place (e.g. index_select_out).
  at::Tensor& input();
  // Runs every layer for one step; returns the top layer's output [1, B, H] (a buffer that the
  // next call overwrites).
  const at::Tensor& run();
  // The current state [L, B, H] (views of internal buffers in F32, f32 copies in BF16).
  at::Tensor h() const;
  at::Tensor c() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace s2s::kernels
